import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

export interface Job {
  name: string;
  intervalSeconds: number;
  run(): Promise<void>;
}

/**
 * Runs each registered job on its interval, one run of a job at a time in this process.
 * Jobs themselves must be safe when several worker instances run them at once
 * (row locks, idempotent steps): this scheduler does not coordinate instances.
 */
@Injectable()
export class Scheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(Scheduler.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  register(job: Job): void {
    if (this.timers.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    const timer = setInterval(() => void this.runNow(job), job.intervalSeconds * 1000);
    timer.unref();
    this.timers.set(job.name, timer);
    this.logger.log({ msg: 'job scheduled', job: job.name, intervalSeconds: job.intervalSeconds });
  }

  /** Runs the job unless a run of it is already in flight; resolves when that run ends. */
  async runNow(job: Job): Promise<void> {
    if (this.stopped) return;
    const inFlight = this.running.get(job.name);
    if (inFlight) return inFlight;
    const run = job
      .run()
      .catch((err: unknown) => {
        this.logger.error({ msg: 'job failed', job: job.name, error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }

  get jobNames(): string[] {
    return [...this.timers.keys()];
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}
