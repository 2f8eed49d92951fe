import { JsonLogger } from '@kura/common';
import { JobRunner } from '@kura/jobs';
import { createWorker } from '../apps/worker/src/worker.factory';
import { Scheduler } from '../apps/worker/src/scheduler';
import { startTestApp, TestApp } from './support/app';
import { sql } from './support/documents';

jest.setTimeout(120_000);
const MIN = 60_000;

interface Row {
  name: string;
  runs: number;
  last_status: string | null;
  last_finished_at: Date | null;
  next_run_at: Date;
  attempts: number;
}

/** Jobs are rows: they survive restarts, run at start when overdue, once across workers, and retry with backoff. */
describe('jobs on PostgreSQL', () => {
  let t: TestApp;
  const quiet = new JsonLogger('error', () => undefined);
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const rows = async () => new Map((await sql<Row>(t.databaseUrl, `SELECT name, runs::int AS runs, last_status, last_finished_at, next_run_at, attempts FROM job_schedules`)).map((r) => [r.name, r]));

  /** As a previous run of the service left them: purge overdue, everything else recently run. */
  async function lastRuns(overdue: string): Promise<void> {
    const now = Date.now();
    for (const [name, interval] of [['session.purge', 3600], ['audit.checkpoint', t.config.auditCheckpointIntervalSeconds], ['retention.sweep', 86400], ['fixity', 86400], ['disposition.resume', 60]] as const) {
      const due = name === overdue;
      await sql(
        t.databaseUrl,
        `INSERT INTO job_schedules (name, interval_seconds, next_run_at, last_finished_at, last_status, runs) VALUES ($1, $2, $3, $4, 'succeeded', 1)
         ON CONFLICT (name) DO UPDATE SET next_run_at = $3, last_finished_at = $4, running_since = NULL, running_owner = NULL`,
        [name, interval, new Date(due ? now - 60 * MIN : now + interval * 1000), new Date(due ? now - 120 * MIN : now)],
      );
    }
  }

  it('runs an overdue job at start-up, records the run, and leaves jobs that are not due', async () => {
    await lastRuns('session.purge');
    const before = await rows();
    const started = new Date();
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: true });
    try {
      await worker.get(Scheduler).firstTick;
      const after = await rows();
      expect(after.get('session.purge')).toMatchObject({ runs: before.get('session.purge')!.runs + 1, last_status: 'succeeded', attempts: 0 });
      expect(after.get('session.purge')!.last_finished_at!.getTime()).toBeGreaterThanOrEqual(started.getTime());
      expect(after.get('session.purge')!.next_run_at.getTime()).toBeGreaterThan(Date.now() + 59 * MIN);
      for (const name of ['audit.checkpoint', 'retention.sweep', 'fixity', 'disposition.resume']) expect(after.get(name)!.runs).toBe(before.get(name)!.runs);
    } finally {
      await worker.close();
    }
  });

  it('runs a due job once when several workers start together', async () => {
    await lastRuns('audit.checkpoint');
    const before = (await rows()).get('audit.checkpoint')!.runs;
    const workers = await Promise.all([1, 2, 3].map(() => createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: true })));
    try {
      await Promise.all(workers.map((w) => w.get(Scheduler).firstTick));
      expect((await rows()).get('audit.checkpoint')!.runs).toBe(before + 1);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('retries a failing job with exponential backoff, then back to its interval once it succeeds', async () => {
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock);
    try {
      const runner = worker.get(JobRunner);
      let fail = true;
      const job = { name: 'test.flaky', intervalSeconds: 3600, run: async () => (fail ? Promise.reject(new Error('store unavailable')) : undefined) };
      await runner.register(job);
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const outcome = await runner.runIfDue(job, true);
        expect(outcome).toMatchObject({ status: 'failed', attempt: i + 1, error: 'store unavailable' });
        const row = (await rows()).get('test.flaky')!;
        delays.push(Math.round((row.next_run_at.getTime() - row.last_finished_at!.getTime()) / 1000));
      }
      expect(delays).toEqual([30, 60, 120]);
      expect(await runner.runIfDue(job)).toBe('not-due');
      fail = false;
      expect(await runner.runIfDue(job, true)).toMatchObject({ status: 'succeeded' });
      const row = (await rows()).get('test.flaky')!;
      expect(row).toMatchObject({ attempts: 0, last_status: 'succeeded', runs: 4 });
      expect(Math.round((row.next_run_at.getTime() - row.last_finished_at!.getTime()) / 1000)).toBe(3600);
    } finally {
      await worker.close();
    }
  });
});
