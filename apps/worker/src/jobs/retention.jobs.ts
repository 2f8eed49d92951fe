import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { FixityService, RetentionSweepService } from '@kura/retention';
import { Scheduler } from '../scheduler';

/**
 * The daily due sweep (audits `retention.due`, resumes interrupted disposition batches)
 * and the fixity check. Both are safe on several workers at once: notices are unique
 * per document and date, fixity claims versions with SKIP LOCKED, execution steps
 * commit under row locks.
 */
@Injectable()
export class RetentionJobs implements OnApplicationBootstrap {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly config: KuraConfig,
    private readonly sweep: RetentionSweepService,
    private readonly fixity: FixityService,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.register({ name: 'retention.sweep', intervalSeconds: this.config.retentionSweepIntervalSeconds, run: async () => void (await this.sweep.sweep()) });
    this.scheduler.register({ name: 'fixity', intervalSeconds: this.config.fixityIntervalSeconds, run: async () => void (await this.fixity.run()) });
  }
}
