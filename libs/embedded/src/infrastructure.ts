import * as path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import type { KuraConfig, S3Settings } from '@kura/config';
import { probePostgres, probeS3 } from './connect-probe';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startEmbeddedS3 } from './embedded-s3';

/** Where the service's state lives for this process: configured servers or embedded ones. */
export interface Infrastructure {
  databaseUrl: string;
  s3: S3Settings;
  embedded: { postgres: boolean; s3: boolean };
  stop(): Promise<void>;
}

export async function startInfrastructure(config: KuraConfig, logger: LoggerService): Promise<Infrastructure> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let databaseUrl = config.databaseUrl;
    const timeoutMs = config.connectTimeoutSeconds * 1000;
    // Both configured servers are probed at once, so a start-up fails within one timeout.
    await Promise.all([databaseUrl && probePostgres(databaseUrl, timeoutMs), config.s3 && probeS3(config.s3, timeoutMs)]);
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres(path.join(config.varDir, 'postgres'), logger);
      stops.push(pg.stop);
      databaseUrl = pg.url;
      logger.log(
        { msg: 'embedded PostgreSQL started', port: pg.port, dataDir: path.join(config.varDir, 'postgres'), reusedData: pg.reusedData },
        'Infrastructure',
      );
    }
    let s3 = config.s3;
    if (!s3) {
      const server = await startEmbeddedS3(path.join(config.varDir, 'objects'), config.s3Bucket, config.s3Region);
      stops.push(server.stop);
      s3 = server.settings;
      logger.log({ msg: 'embedded S3 (s3rver) started', port: s3.port, dataDir: path.join(config.varDir, 'objects') }, 'Infrastructure');
    }
    return { databaseUrl, s3, embedded: { postgres: !config.databaseUrl, s3: !config.s3 }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
