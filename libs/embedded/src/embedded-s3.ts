import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { S3Settings } from '@kura/config';

export interface EmbeddedS3Handle {
  settings: S3Settings;
  stop(): Promise<void>;
}

interface S3rverInstance {
  httpServer?: { keepAliveTimeout: number; headersTimeout: number };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

/**
 * Starts an s3rver S3-compatible server on loopback (a stand-in for MinIO in development
 * and tests), objects under `directory`. s3rver accepts its fixed S3RVER credentials.
 */
export async function startEmbeddedS3(directory: string, bucket: string, region: string): Promise<EmbeddedS3Handle> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverCtor;
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, resetOnClose: false });
  const address = await server.run();
  // Node's 5 s default drops idle keep-alive sockets the client may be about to reuse
  // (ECONNRESET under load); MinIO keeps them far longer.
  if (server.httpServer) {
    server.httpServer.keepAliveTimeout = 75_000;
    server.httpServer.headersTimeout = 76_000;
  }
  return {
    settings: {
      endPoint: '127.0.0.1',
      port: address.port,
      useSSL: false,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      bucket,
      region,
    },
    stop: () => server.close(),
  };
}
