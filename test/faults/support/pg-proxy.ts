import * as net from 'node:net';

/**
 * A TCP proxy between the api and PostgreSQL that understands just enough of the wire
 * protocol to find one moment: a COMMIT (simple Query message) of a transaction that
 * inserted into `watch`. When armed, it forwards that COMMIT, waits for PostgreSQL's reply
 * (so the transaction has committed), swallows the reply and cuts both sockets: the
 * client sees a lost COMMIT reply, the database holds the committed rows.
 */
export class PgCommitCutter {
  private server!: net.Server;
  private armed: { watch: RegExp; resolve: () => void } | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    /** Settable: a restarted PostgreSQL may listen elsewhere while the api keeps its URL. */
    public targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.connection(client));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves once the next matching COMMIT has committed and its reply was cut. */
  cutNextCommitAfter(watch: RegExp): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { watch, resolve };
    });
  }

  /** A database URL pointing at the proxy instead of `url`'s server. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connection(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    const forget = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);

    let pending = Buffer.alloc(0);
    let startup = true;
    let touched = false;
    let cutting: (() => void) | null = null;

    upstream.on('data', (chunk: Buffer) => {
      if (cutting) {
        // PostgreSQL answered the COMMIT: it has committed. The client never hears it.
        const done = cutting;
        cutting = null;
        forget();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      pending = Buffer.concat([pending, chunk]);
      // Frame messages so the COMMIT can be recognised; forward each whole message.
      for (;;) {
        if (startup) {
          if (pending.length < 4) return;
          const len = pending.readInt32BE(0);
          if (pending.length < len) return;
          upstream.write(pending.subarray(0, len));
          pending = pending.subarray(len);
          startup = false;
          continue;
        }
        if (pending.length < 5) return;
        const len = pending.readInt32BE(1) + 1;
        if (pending.length < len) return;
        const message = pending.subarray(0, len);
        pending = pending.subarray(len);
        const type = String.fromCharCode(message[0]);
        const text = type === 'Q' || type === 'P' ? message.subarray(5).toString('utf8') : '';
        if (this.armed && this.armed.watch.test(text)) touched = true;
        if (type === 'Q' && /^\s*(BEGIN|START TRANSACTION)/i.test(text)) touched = false;
        if (type === 'Q' && /^\s*COMMIT/i.test(text) && touched && this.armed) {
          const { resolve } = this.armed;
          this.armed = null;
          cutting = resolve;
          upstream.write(message);
          return;
        }
        upstream.write(message);
      }
    });
  }
}
