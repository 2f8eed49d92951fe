import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): Record<string, unknown>;
}

function answer(res: http.IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const body = Buffer.concat(parts);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
    });
  });
}

/** One request with a fresh connection (no keep-alive: a fault test must not reuse a dying socket). */
export function call(base: string, method: string, url: string, o: { token?: string; json?: unknown; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let payload = o.body;
    if (o.json !== undefined) {
      payload = Buffer.from(JSON.stringify(o.json));
      headers['content-type'] = 'application/json';
    }
    if (payload) headers['content-length'] = String(payload.length);
    const req = http.request(new URL(url, base), { method, headers, agent: false }, (res) => answer(res).then(resolve, reject));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A multipart upload the test drives by hand: `send` writes bytes, `finish` ends the body,
 * `answer` settles with the response (or rejects when the connection dies).
 */
export class ManualUpload {
  readonly boundary = `----kura${randomBytes(8).toString('hex')}`;
  readonly answer: Promise<Answer>;
  private readonly req: http.ClientRequest;

  constructor(base: string, url: string, token: string, headers: Record<string, string> = {}) {
    this.req = http.request(new URL(url, base), {
      method: 'POST',
      agent: false,
      headers: { connection: 'close', authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${this.boundary}`, 'transfer-encoding': 'chunked', ...headers },
    });
    const req = this.req;
    this.answer = new Promise<Answer>((resolve, reject) => {
      req.on('response', (res) => answer(res).then(resolve, reject));
      req.on('error', reject);
    });
    this.answer.catch(() => undefined);
    req.flushHeaders();
  }

  field(name: string, value: string): this {
    return this.send(`--${this.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  }

  fields(list: Array<[string, string]>): this {
    for (const [k, v] of list) this.field(k, v);
    return this;
  }

  fileHeader(filename = 'upload.bin'): this {
    return this.send(`--${this.boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  }

  /** Ends the file's bytes; the server knows the file is complete when the next delimiter arrives. */
  endFile(): this {
    return this.send('\r\n');
  }

  /** Starts a field and leaves its value open: the upload is held there. */
  openField(name: string): this {
    return this.send(`--${this.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`);
  }

  send(data: string | Buffer): this {
    this.req.write(data);
    return this;
  }

  /** Closes the multipart body. */
  finish(): Promise<Answer> {
    this.req.end(`--${this.boundary}--\r\n`);
    return this.answer;
  }

  destroy(): void {
    this.req.destroy();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true (a condition, not a guess at a duration). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
