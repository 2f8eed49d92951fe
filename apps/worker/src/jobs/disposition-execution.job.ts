import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { describeError } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { DispositionExecutor } from '@kura/retention';
import { SCHEDULER_OPTIONS, SchedulerOptions } from '../scheduler';

/**
 * Executes approved disposition batches: every DISPOSITION_POLL_MS it asks PostgreSQL for a
 * batch no live worker holds, takes its lease and runs it (DispositionExecutor.executeNext).
 * A short poll rather than LISTEN/NOTIFY: one indexed query per poll, no dedicated connection
 * to keep alive, nothing lost while reconnecting; the approver's wait covers the poll delay.
 */
@Injectable()
export class DispositionExecutionJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Disposition');
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly executor: DispositionExecutor,
    private readonly config: KuraConfig,
    @Optional() @Inject(SCHEDULER_OPTIONS) private readonly options: SchedulerOptions = { schedule: false },
  ) {}

  onApplicationBootstrap(): void {
    if (!(this.options.dispositions ?? this.options.schedule)) return;
    this.timer = setInterval(() => void this.poll(), this.config.dispositionPollMs);
    void this.poll();
  }

  /** Runs every batch waiting for a worker; one poll at a time in this process. */
  poll(): Promise<void> {
    this.current ??= this.executor
      .resumeAll(() => this.stopped)
      .catch((err: unknown) => this.logger.error({ msg: 'executing disposition batches failed; trying again at the next poll', error: describeError(err) }))
      .finally(() => (this.current = undefined));
    return this.current;
  }

  /**
   * Stops taking batches; a batch in progress hands its lease back at its next record.
   * Before any module's shutdown hook, so the database pool is still there while it does.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.current;
  }
}
