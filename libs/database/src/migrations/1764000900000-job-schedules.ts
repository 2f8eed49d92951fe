import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Background jobs are rows: when each job is next due, who is running it (a lease, so one
 * instance runs it across every worker), and how its last run ended. Survives restarts.
 */
export class JobSchedules1764000900000 implements MigrationInterface {
  name = 'JobSchedules1764000900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_schedules (
        name text NOT NULL,
        interval_seconds integer NOT NULL,
        next_run_at timestamptz NOT NULL,
        running_since timestamptz,
        running_owner text,
        attempts integer NOT NULL DEFAULT 0,
        last_started_at timestamptz,
        last_finished_at timestamptz,
        last_status text,
        last_error text,
        last_duration_ms integer,
        runs bigint NOT NULL DEFAULT 0,
        failures bigint NOT NULL DEFAULT 0,
        CONSTRAINT pk_job_schedules PRIMARY KEY (name),
        CONSTRAINT ck_job_schedules_interval CHECK (interval_seconds > 0),
        CONSTRAINT ck_job_schedules_status CHECK (last_status IN ('succeeded', 'failed'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_schedules`);
  }
}
