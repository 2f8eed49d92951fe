/**
 * An s3rver in a process of its own (fault tests SIGSTOP and kill it, then start it again
 * on the same port and directory). Input: KURA_S3_DIR, KURA_S3_PORT (0 = any).
 * Prints one JSON line {msg: 's3 ready', settings}.
 *
 * A trap makes "mid-transfer" exact instead of a race: on SIGUSR2 the child reads
 * `${KURA_S3_DIR}.trap` ({action: 'stop' | 'kill', method: 'GET' | 'PUT', afterBytes}), prints
 * {msg: 's3 armed'}, and once it has sent (GET) or received (PUT) `afterBytes` body bytes of
 * one document object it prints {msg: 's3 trap fired'} and sends itself SIGSTOP or SIGKILL.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

interface Trap {
  action: 'stop' | 'kill';
  method: 'GET' | 'PUT';
  afterBytes: number;
}

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
let trap: Trap | null = null;
const counted = new WeakMap<object, number>();

/** Counts `bytes` against the trap for one request or response; fires once the threshold is crossed. */
function count(message: object, method: string | undefined, url: string | undefined, bytes: number): void {
  if (!trap || method !== trap.method || !url?.includes('/documents/')) return;
  const total = (counted.get(message) ?? 0) + bytes;
  counted.set(message, total);
  if (total < trap.afterBytes) return;
  const { action } = trap;
  trap = null;
  // Next tick: the response socket is corked for this tick, and what was written must reach the wire first.
  process.nextTick(() => {
    say({ msg: 's3 trap fired', action, bytes: total, at: Date.now() }); // stdout is a pipe: written synchronously
    process.kill(process.pid, action === 'stop' ? 'SIGSTOP' : 'SIGKILL');
  });
}

// Response bodies (GET) pass through write(); request bodies (PUT, upload part) through push().
const write = http.ServerResponse.prototype.write as (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) => boolean;
http.ServerResponse.prototype.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
  const ok = write.call(this, chunk, ...rest);
  if (Buffer.isBuffer(chunk) || typeof chunk === 'string') count(this, this.req?.method, this.req?.url, Buffer.byteLength(chunk));
  return ok;
} as typeof http.ServerResponse.prototype.write;
const push = http.IncomingMessage.prototype.push as (this: http.IncomingMessage, chunk: unknown, encoding?: BufferEncoding) => boolean;
http.IncomingMessage.prototype.push = function (this: http.IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
  if (Buffer.isBuffer(chunk)) count(this, this.method, this.url, chunk.length);
  return push.call(this, chunk, encoding);
};

process.on('SIGUSR2', () => {
  trap = JSON.parse(readFileSync(`${process.env.KURA_S3_DIR}.trap`, 'utf8')) as Trap;
  say({ msg: 's3 armed', trap });
});

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  const server = new S3rver({ address: '127.0.0.1', port: Number(process.env.KURA_S3_PORT ?? '0'), directory: process.env.KURA_S3_DIR, silent: true, resetOnClose: false });
  const address = await server.run();
  const settings = { endPoint: '127.0.0.1', port: address.port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'kura-faults', region: 'us-east-1' };
  say({ msg: 's3 ready', settings });
}

main().catch((err: unknown) => {
  process.stderr.write(`s3 child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
