import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { DispositionExecutor, FixityService, RetentionSweepService } from '@kura/retention';
import { Job, Scheduler } from '../scheduler';

/**
 * The daily due sweep (audits `retention.due`, resumes interrupted disposition batches)
 * and the fixity check. Both are safe on several workers at once: notices are unique
 * per document and date, fixity claims versions with SKIP LOCKED, execution steps
 * commit under row locks.
 */
@Injectable()
export class RetentionJobs implements OnApplicationBootstrap {
  readonly sweep: Job;
  readonly fixity: Job;
  /**
   * Approved batches no live worker holds, run to completion: what DispositionExecutionJob does
   * every poll, as a scheduled fallback and for operators (`jobs run disposition.resume`).
   */
  readonly dispositionResume: Job;

  constructor(
    private readonly scheduler: Scheduler,
    config: KuraConfig,
    sweeper: RetentionSweepService,
    fixity: FixityService,
    executor: DispositionExecutor,
  ) {
    this.sweep = { name: 'retention.sweep', intervalSeconds: config.retentionSweepIntervalSeconds, run: async () => void (await sweeper.sweep()) };
    this.fixity = { name: 'fixity', intervalSeconds: config.fixityIntervalSeconds, run: async () => void (await fixity.run()) };
    this.dispositionResume = { name: 'disposition.resume', intervalSeconds: 60, run: () => executor.resumeAll() };
  }

  onApplicationBootstrap(): void {
    this.scheduler.register(this.sweep);
    this.scheduler.register(this.fixity);
    this.scheduler.register(this.dispositionResume);
  }
}
