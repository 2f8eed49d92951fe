/**
 * An s3rver in a process of its own (fault tests SIGSTOP and kill it, then start it again
 * on the same port and directory). Input: KURA_S3_DIR, KURA_S3_PORT (0 = any).
 * Prints one JSON line {msg: 's3 ready', settings}.
 */
import type { AddressInfo } from 'node:net';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  const server = new S3rver({ address: '127.0.0.1', port: Number(process.env.KURA_S3_PORT ?? '0'), directory: process.env.KURA_S3_DIR, silent: true, resetOnClose: false });
  const address = await server.run();
  const settings = { endPoint: '127.0.0.1', port: address.port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'kura-faults', region: 'us-east-1' };
  process.stdout.write(`${JSON.stringify({ msg: 's3 ready', settings })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`s3 child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
