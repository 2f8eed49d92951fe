import { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Clock } from '@kura/common';
import type { KuraConfig } from '@kura/config';
import { migrate } from '@kura/database';
import type { Infrastructure } from '@kura/embedded';
import type { SchedulerOptions } from './scheduler';
import { WorkerModule } from './worker.module';

/** Builds the worker (an application context, no HTTP) and starts its scheduler. */
export async function createWorker(
  config: KuraConfig,
  infra: Pick<Infrastructure, 'databaseUrl' | 's3'>,
  logger: LoggerService,
  clock = new Clock(),
  // Timers only where asked for (the api's and the worker's main): tests and the CLI run jobs by hand.
  options: SchedulerOptions = { schedule: false },
): Promise<INestApplicationContext> {
  const applied = await migrate(infra.databaseUrl);
  if (applied.length) logger.log({ msg: 'migrations applied', migrations: applied }, 'Database');
  const worker = await NestFactory.createApplicationContext(WorkerModule.register(config, infra, clock, options), { logger, abortOnError: false });
  await worker.init();
  return worker;
}
