import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { Clock, describeError, metrics } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { JobsRepository } from './jobs.repository';

export interface JobDefinition {
  name: string;
  intervalSeconds: number;
  run(): Promise<void>;
}

export interface JobOutcome {
  job: string;
  status: 'succeeded' | 'failed';
  ms: number;
  attempt: number;
  nextRunAt: string;
  error?: string;
}

/** A run that outlives this is presumed dead (its worker crashed): another worker may take the job. */
export const JOB_LEASE_SECONDS = 3600;
/** Failures in a row before the job waits a whole interval again. */
export const JOB_MAX_ATTEMPTS = 5;

/**
 * Runs a job when its row says it is due and this process wins the claim, records how it
 * ended, and schedules the next run: a failure retries after jobRetryBaseSeconds × 2^(n-1)
 * (never later than the interval), up to JOB_MAX_ATTEMPTS in a row.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger('Jobs');
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly repo: JobsRepository,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
  ) {}

  register(job: JobDefinition): Promise<void> {
    return this.repo.ensure(job.name, job.intervalSeconds, this.clock.now());
  }

  /** `force`: an operator's run (`jobs run <name>`), due or not; still never two at once. */
  async runIfDue(job: JobDefinition, force = false): Promise<JobOutcome | 'not-due' | 'busy'> {
    const claimed = await this.repo.claim(job.name, this.owner, this.clock.now(), JOB_LEASE_SECONDS, force);
    if (claimed === 'not-due' || claimed === 'busy') return claimed;
    const started = Date.now();
    let error: string | undefined;
    try {
      await job.run();
    } catch (err) {
      error = describeError(err);
    }
    const finishedAt = this.clock.now();
    const attempt = error ? claimed.attempts + 1 : 0;
    const retry = error !== undefined && attempt < JOB_MAX_ATTEMPTS;
    const delaySeconds = retry ? Math.min(job.intervalSeconds, this.config.jobRetryBaseSeconds * 2 ** (attempt - 1)) : job.intervalSeconds;
    const nextRunAt = new Date(finishedAt.getTime() + delaySeconds * 1000);
    const ms = Date.now() - started;
    metrics.jobRuns.inc({ job: job.name, status: error ? 'failed' : 'succeeded' });
    metrics.jobDuration.observe({ job: job.name }, ms / 1000);
    await this.repo.finish(job.name, this.owner, { succeeded: !error, finishedAt, durationMs: ms, error: error?.slice(0, 500) ?? null, nextRunAt, attempts: retry ? attempt : 0 });
    if (error) this.logger.error({ msg: 'job failed', job: job.name, attempt, error, nextRunAt: nextRunAt.toISOString() });
    else this.logger.log({ msg: 'job finished', job: job.name, ms });
    return { job: job.name, status: error ? 'failed' : 'succeeded', ms, attempt: error ? attempt : claimed.attempts + 1, nextRunAt: nextRunAt.toISOString(), ...(error ? { error } : {}) };
  }

  list() {
    return this.repo.list();
  }
}
