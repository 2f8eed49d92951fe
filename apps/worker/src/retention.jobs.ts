import { Injectable, OnModuleInit } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { FixityService, RetentionSweepService } from '@kura/retention';
import { Scheduler } from './scheduler';

/** Schedules the due sweep and the fixity check; both are safe on several worker instances. */
@Injectable()
export class RetentionJobs implements OnModuleInit {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly config: KuraConfig,
    private readonly sweep: RetentionSweepService,
    private readonly fixity: FixityService,
  ) {}

  onModuleInit(): void {
    this.scheduler.register({ name: 'retention-sweep', intervalSeconds: this.config.retentionSweepIntervalSeconds, run: async () => void (await this.sweep.sweep()) });
    this.scheduler.register({ name: 'fixity', intervalSeconds: this.config.fixityIntervalSeconds, run: async () => void (await this.fixity.run()) });
  }
}
