import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { describeError } from '@kura/common';

export const SCHEDULER_OPTIONS = Symbol('SCHEDULER_OPTIONS');

export interface SchedulerOptions {
  /** False in the CLI: jobs are known and runnable by hand, but nothing runs on a timer. */
  schedule: boolean;
}

export interface JobOutcome {
  job: string;
  status: 'succeeded' | 'failed';
  ms: number;
  error?: string;
}

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
  private readonly jobs = new Map<string, Job>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(@Optional() @Inject(SCHEDULER_OPTIONS) private readonly options: SchedulerOptions = { schedule: true }) {}

  register(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    this.jobs.set(job.name, job);
    if (!this.options.schedule) return;
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
    return [...this.jobs.keys()];
  }

  async describe(): Promise<Array<{ name: string; intervalSeconds: number }>> {
    return [...this.jobs.values()].map((j) => ({ name: j.name, intervalSeconds: j.intervalSeconds }));
  }

  /** An operator's run (`jobs run <name>`): waits for it and reports how it ended. */
  async runByName(name: string): Promise<JobOutcome> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown job: ${name}`);
    const started = Date.now();
    try {
      await job.run();
      return { job: name, status: 'succeeded', ms: Date.now() - started };
    } catch (err) {
      return { job: name, status: 'failed', ms: Date.now() - started, error: describeError(err) };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }
}
