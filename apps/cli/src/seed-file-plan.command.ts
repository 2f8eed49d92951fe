import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditModule } from '@kura/audit';
import { Clock, JsonLogger } from '@kura/common';
import { ConfigModule } from '@kura/config';
import { DatabaseModule, TransactionRunner } from '@kura/database';
import { RetentionRepository, SeriesRepository, SeriesService } from '@kura/retention';
import { CommandContext, CommandSpec, EXIT } from './command';

/** `retention seed-file-plan`: idempotent; series whose code exists are left untouched. Audited as the system. */
async function seedFilePlan({ io, config, database }: CommandContext): Promise<number> {
  const databaseUrl = await database();
  // Global, like the api's and worker's root modules: the audit library's services take the Clock too.
  @Global()
  @Module({
    imports: [ConfigModule.forRoot(config()), DatabaseModule.forRoot(databaseUrl, 2), AuditModule],
    providers: [{ provide: Clock, useValue: new Clock() }, TransactionRunner, SeriesRepository, RetentionRepository, SeriesService],
    exports: [Clock],
  })
  class SeedModule {}
  const logger = new JsonLogger('warn', (line) => io.err(line));
  const app = await NestFactory.createApplicationContext(SeedModule, { logger, abortOnError: false });
  try {
    const result = await app.get(SeriesService).seed(null);
    io.out(`Seed file plan: ${result.created.length} series created, ${result.existing.length} already present.`);
    for (const code of result.created) io.out(`  + ${code}`);
    for (const code of result.existing) io.out(`  = ${code}`);
  } finally {
    await app.close();
  }
  return EXIT.ok;
}

export const seedFilePlanCommands: CommandSpec[] = [
  {
    name: 'retention seed-file-plan',
    summary: 'Loads the shipped Japanese seed file plan (docs/retention.md) into the configured database.',
    details: ['Idempotent: series whose code exists are left untouched.'],
    run: seedFilePlan,
  },
];
