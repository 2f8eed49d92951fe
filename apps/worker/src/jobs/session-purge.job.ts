import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SessionPurgeService } from '@kura/identity';
import { Job, Scheduler } from '../scheduler';

/** Hourly: dead sessions are deleted once a day old. Safe on several workers (SKIP LOCKED batches). */
@Injectable()
export class SessionPurgeJob implements OnApplicationBootstrap, Job {
  readonly name = 'session.purge';
  readonly intervalSeconds = 3600;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly purger: SessionPurgeService,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.register(this);
  }

  async run(): Promise<void> {
    await this.purger.purge();
  }
}
