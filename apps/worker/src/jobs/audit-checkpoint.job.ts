import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AuditCheckpointService } from '@kura/audit';
import { KuraConfig } from '@kura/config';
import { Job, Scheduler } from '../scheduler';

/**
 * Signs the audit chain head every AUDIT_CHECKPOINT_INTERVAL_SECONDS. Safe on several
 * workers at once: checkpoints are idempotent on seq.
 */
@Injectable()
export class AuditCheckpointJob implements OnApplicationBootstrap, Job {
  readonly name = 'audit.checkpoint';
  readonly intervalSeconds: number;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly checkpoints: AuditCheckpointService,
    config: KuraConfig,
  ) {
    this.intervalSeconds = config.auditCheckpointIntervalSeconds;
  }

  onApplicationBootstrap(): void {
    this.scheduler.register(this);
  }

  async run(): Promise<void> {
    await this.checkpoints.create();
  }
}
