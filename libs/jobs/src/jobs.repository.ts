import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface JobScheduleRow {
  name: string;
  intervalSeconds: number;
  nextRunAt: Date;
  runningSince: Date | null;
  runningOwner: string | null;
  attempts: number;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastStatus: 'succeeded' | 'failed' | null;
  lastError: string | null;
  lastDurationMs: number | null;
  runs: number;
  failures: number;
}

const COLUMNS = `name, interval_seconds AS "intervalSeconds", next_run_at AS "nextRunAt", running_since AS "runningSince",
  running_owner AS "runningOwner", attempts, last_started_at AS "lastStartedAt", last_finished_at AS "lastFinishedAt",
  last_status AS "lastStatus", last_error AS "lastError", last_duration_ms AS "lastDurationMs", runs::int AS runs, failures::int AS failures`;

/** job_schedules: the one table the jobs capability owns. */
@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Registers a job. A new job is due at once (it has never run); a known one keeps its
   * schedule, pulled earlier if its interval was shortened.
   */
  async ensure(name: string, intervalSeconds: number, now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO job_schedules (name, interval_seconds, next_run_at) VALUES ($1, $2::int, $3::timestamptz)
       ON CONFLICT (name) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds,
         next_run_at = LEAST(job_schedules.next_run_at, COALESCE(job_schedules.last_finished_at, $3::timestamptz) + make_interval(secs => EXCLUDED.interval_seconds))`,
      [name, intervalSeconds, now],
    );
  }

  /**
   * Takes the job for `owner` when it is due (or `force`) and nobody holds an unexpired lease.
   * One conditional UPDATE: of several workers asking at once, exactly one gets the row.
   */
  async claim(name: string, owner: string, now: Date, leaseSeconds: number, force: boolean): Promise<{ attempts: number } | 'not-due' | 'busy'> {
    const rows = (await this.dataSource.query(
      `UPDATE job_schedules SET running_since = $2::timestamptz, running_owner = $3, last_started_at = $2::timestamptz
       WHERE name = $1 AND (running_since IS NULL OR running_since < $2::timestamptz - make_interval(secs => $4::int))
         AND ($5::boolean OR next_run_at <= $2::timestamptz)
       RETURNING attempts`,
      [name, now, owner, leaseSeconds, force],
    )) as [Array<{ attempts: number }>, number];
    const [claimed] = rows[0];
    if (claimed) return claimed;
    const [row] = (await this.dataSource.query(`SELECT running_since FROM job_schedules WHERE name = $1`, [name])) as Array<{ running_since: Date | null }>;
    return row?.running_since ? 'busy' : 'not-due';
  }

  async finish(
    name: string,
    owner: string,
    r: { succeeded: boolean; finishedAt: Date; durationMs: number; error: string | null; nextRunAt: Date; attempts: number },
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE job_schedules SET running_since = NULL, running_owner = NULL, last_finished_at = $3, last_status = $4,
         last_error = $5, last_duration_ms = $6, next_run_at = $7, attempts = $8, runs = runs + 1,
         failures = failures + CASE WHEN $4::text = 'failed' THEN 1 ELSE 0 END
       WHERE name = $1 AND running_owner = $2`,
      [name, owner, r.finishedAt, r.succeeded ? 'succeeded' : 'failed', r.error, r.durationMs, r.nextRunAt, r.attempts],
    );
  }

  async list(): Promise<JobScheduleRow[]> {
    return (await this.dataSource.query(`SELECT ${COLUMNS} FROM job_schedules ORDER BY name`)) as JobScheduleRow[];
  }
}
