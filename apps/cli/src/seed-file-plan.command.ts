import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditModule } from '@kura/audit';
import { Clock, JsonLogger } from '@kura/common';
import { ConfigError, ConfigModule, loadConfig } from '@kura/config';
import { DatabaseModule, migrate, TransactionRunner } from '@kura/database';
import { startEmbeddedPostgres } from '@kura/embedded';
import { RetentionRepository, SeriesRepository, SeriesService } from '@kura/retention';
import type { CliIo } from './cli';

/** `retention seed-file-plan`: idempotent; series whose code exists are left untouched. Audited as the system. */
export async function seedFilePlanCommand(io: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`Configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = new JsonLogger('warn', (line) => io.err(line));
  let stop = async () => undefined as void;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    // The embedded cluster of `npm start`: one server per data directory, so the service must be stopped.
    const dataDir = path.join(config.varDir, 'postgres');
    if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
      io.err(`The embedded PostgreSQL in ${dataDir} is in use (is Kura running?). Stop the service, or set DATABASE_URL, and run this again.`);
      return 2;
    }
    const pg = await startEmbeddedPostgres(dataDir, logger);
    databaseUrl = pg.url;
    stop = pg.stop;
  }
  try {
    await migrate(databaseUrl);
    // Global, like the api's and worker's root modules: the audit library's services take the Clock too.
    @Global()
    @Module({
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(databaseUrl, 2), AuditModule],
      providers: [{ provide: Clock, useValue: new Clock() }, TransactionRunner, SeriesRepository, RetentionRepository, SeriesService],
      exports: [Clock],
    })
    class SeedModule {}
    const app = await NestFactory.createApplicationContext(SeedModule, { logger, abortOnError: false });
    try {
      const result = await app.get(SeriesService).seed(null);
      io.out(`Seed file plan: ${result.created.length} series created, ${result.existing.length} already present.`);
      for (const code of result.created) io.out(`  + ${code}`);
      for (const code of result.existing) io.out(`  = ${code}`);
    } finally {
      await app.close();
    }
    return 0;
  } finally {
    await stop();
  }
}
