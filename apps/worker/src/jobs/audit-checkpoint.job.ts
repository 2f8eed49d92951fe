import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AuditCheckpointService } from '@kura/audit';
import { metrics } from '@kura/common';
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
    const checkpoint = await this.checkpoints.create();
    if (checkpoint) metrics.auditCheckpointSeq.set(Number(checkpoint.seq));
  }
}
