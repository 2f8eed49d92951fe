import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigModule, KuraConfig } from '@kura/config';
import { CryptoModule } from '@kura/crypto';
import { DatabaseModule } from '@kura/database';
import { DocumentsModule, VersionDigestService } from '@kura/documents';
import { SessionPurgeModule } from '@kura/identity';
import { JobsModule } from '@kura/jobs';
import type { Infrastructure } from '@kura/embedded';
import { RetentionJobsModule, RetentionModule, VERSION_DIGESTER } from '@kura/retention';
import { StorageModule } from '@kura/storage';
import { AuditCheckpointJob } from './jobs/audit-checkpoint.job';
import { ContentReconcileJob } from './jobs/content-reconcile.job';
import { DispositionExecutionJob } from './jobs/disposition-execution.job';
import { RetentionJobs } from './jobs/retention.jobs';
import { SessionPurgeJob } from './jobs/session-purge.job';
import { Scheduler, SCHEDULER_OPTIONS, SchedulerOptions } from './scheduler';

@Module({})
export class WorkerModule {
  static register(
    config: KuraConfig,
    infra: Pick<Infrastructure, 'databaseUrl' | 's3'>,
    clock = new Clock(),
    options: SchedulerOptions = { schedule: false },
  ): DynamicModule {
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
        RetentionJobsModule,
        // The disposition executor: approved batches are executed here.
        RetentionModule,
        JobsModule,
      ],
      providers: [
        { provide: Clock, useValue: clock },
        // Fixity re-reads versions through the documents capability (decrypting, authenticating).
        { provide: VERSION_DIGESTER, useExisting: VersionDigestService },
        { provide: SCHEDULER_OPTIONS, useValue: options },
        Scheduler,
        AuditCheckpointJob,
        SessionPurgeJob,
        RetentionJobs,
        ContentReconcileJob,
        DispositionExecutionJob,
      ],
      exports: [Clock, Scheduler, VERSION_DIGESTER],
    };
  }
}
