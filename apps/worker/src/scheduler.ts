import { writeFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { describeError } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { JobDefinition, JobOutcome, JobRunner } from '@kura/jobs';

export const SCHEDULER_OPTIONS = Symbol('SCHEDULER_OPTIONS');

export interface SchedulerOptions {
  /** False in the CLI: jobs are known and runnable by hand, but nothing runs on a timer. */
  schedule: boolean;
  /** Executes approved disposition batches as they come (default: as `schedule`); tests turn it on alone. */
  dispositions?: boolean;
}

export type Job = JobDefinition;
export type { JobOutcome };

/**
 * Runs each registered job when its row in job_schedules says it is due: at start-up when
 * it is overdue (the schedule survives restarts), then every JOB_POLL_SECONDS it looks
 * again. Claims go through PostgreSQL, so across any number of workers one runs each job.
 */
@Injectable()
export class Scheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(Scheduler.name);
  private readonly jobs = new Map<string, Job>();
  private ensured?: Promise<void>;
  private readonly running = new Map<string, Promise<unknown>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Resolves when the first look for due jobs (at start-up) has finished its runs. */
  firstTick?: Promise<void>;

  constructor(
    private readonly runner: JobRunner,
    private readonly config: KuraConfig,
    @Optional() @Inject(SCHEDULER_OPTIONS) private readonly options: SchedulerOptions = { schedule: false },
  ) {}

  register(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already registered`);
    this.jobs.set(job.name, job);
    if (!this.options.schedule || this.timer) return;
    // Jobs register during bootstrap: look once they all have, then on every poll.
    this.firstTick = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.tick());
    this.timer = setInterval(() => void this.tick(), this.config.jobPollSeconds * 1000);
    this.timer.unref();
  }

  /** The rows of the registered jobs exist (written on first use, so a worker that never runs a job touches nothing). */
  private ensureRows(): Promise<void> {
    this.ensured ??= Promise.all([...this.jobs.values()].map((job) => this.runner.register(job))).then(
      () => undefined,
      (err: unknown) => {
        this.ensured = undefined;
        throw err;
      },
    );
    return this.ensured;
  }

  /** Starts every due job not already running here; resolves when those runs end. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    // The container healthcheck reads this file's age: the poller is alive.
    if (this.config.workerHeartbeatFile) await writeFile(this.config.workerHeartbeatFile, `${new Date().toISOString()}\n`).catch(() => undefined);
    try {
      await this.ensureRows();
    } catch (err) {
      this.logger.error({ msg: 'jobs could not be registered; trying again at the next poll', error: describeError(err) });
      return;
    }
    const runs: Array<Promise<unknown>> = [];
    for (const job of this.jobs.values()) {
      if (this.stopped || this.running.has(job.name)) continue;
      runs.push(this.track(job, this.runner.runIfDue(job)));
    }
    await Promise.all(runs);
  }

  private track<T>(job: Job, run: Promise<T>): Promise<T | undefined> {
    const tracked = run
      .catch((err: unknown) => {
        // The claim or the bookkeeping failed (database down): the next poll tries again.
        this.logger.error({ msg: 'job could not be scheduled', job: job.name, error: describeError(err) });
        return undefined;
      })
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, tracked);
    return tracked;
  }

  get jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  async describe() {
    await this.ensureRows();
    const rows = new Map((await this.runner.list()).map((r) => [r.name, r]));
    return this.jobNames.map((name) => {
      const r = rows.get(name);
      return {
        name,
        intervalSeconds: this.jobs.get(name)!.intervalSeconds,
        nextRunAt: r?.nextRunAt ?? null,
        runningSince: r?.runningSince ?? null,
        lastFinishedAt: r?.lastFinishedAt ?? null,
        lastStatus: r?.lastStatus ?? null,
        lastError: r?.lastError ?? null,
        runs: r?.runs ?? 0,
        failures: r?.failures ?? 0,
      };
    });
  }

  /** Runs the job now (waiting for a run of it in this process to end first); failures are recorded, not thrown. */
  async runNow(job: Job): Promise<void> {
    await this.running.get(job.name);
    await this.runByName(job.name);
  }

  /** An operator's run (`jobs run <name>`): now, due or not, unless it is running somewhere. */
  async runByName(name: string): Promise<JobOutcome | { job: string; status: 'busy' }> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown job: ${name}`);
    await this.ensureRows();
    const outcome = await this.runner.runIfDue(job, true);
    if (outcome === 'busy' || outcome === 'not-due') return { job: name, status: 'busy' };
    return outcome;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.firstTick;
    await Promise.all(this.running.values());
  }
}
