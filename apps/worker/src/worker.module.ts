import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigModule, KuraConfig } from '@kura/config';
import { CryptoModule } from '@kura/crypto';
import { DatabaseModule } from '@kura/database';
import { DocumentsModule } from '@kura/documents';
import { SessionPurgeModule } from '@kura/identity';
import type { Infrastructure } from '@kura/embedded';
import { StorageModule } from '@kura/storage';
import { AuditCheckpointJob } from './jobs/audit-checkpoint.job';
import { SessionPurgeJob } from './jobs/session-purge.job';
import { Scheduler } from './scheduler';

@Module({})
export class WorkerModule {
  static register(config: KuraConfig, infra: Pick<Infrastructure, 'databaseUrl' | 's3'>, clock = new Clock()): DynamicModule {
    return {
      module: WorkerModule,
      global: true,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(infra.databaseUrl, 5),
        StorageModule.forRoot(infra.s3),
        AuditModule,
        SessionPurgeModule,
        CryptoModule,
        DocumentsModule,
      ],
      providers: [{ provide: Clock, useValue: clock }, Scheduler, AuditCheckpointJob, SessionPurgeJob],
      exports: [Clock, Scheduler],
    };
  }
}
