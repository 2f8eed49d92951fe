import request from 'supertest';
import { DataSource } from 'typeorm';
import { JsonLogger } from '@kura/common';
import { SESSION_RETENTION_MS } from '@kura/identity';
import { SessionPurgeJob } from '../apps/worker/src/jobs/session-purge.job';
import { createWorker } from '../apps/worker/src/worker.factory';
import { Scheduler } from '../apps/worker/src/scheduler';
import { startTestApp, TestApp } from './support/app';
import { lastSeq } from './support/audit';
import { loginAdmin } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

const HOUR = 60 * 60 * 1000;

describe('session purge job (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('deletes sessions dead for more than a day (ended, or expired without a logout), keeps the rest, audits the count', async () => {
    const db = t.app.get(DataSource);
    const t0 = t.clock.now().getTime();
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
    const sessions = async () =>
      ((await db.query(`SELECT created_at, ended_at FROM sessions ORDER BY created_at`)) as Array<{ created_at: Date; ended_at: Date | null }>).map((s) => ({
        created: hoursAfterStart(s.created_at),
        ended: s.ended_at && hoursAfterStart(s.ended_at),
      }));
    // The test clock moves on with real time between steps: compare in whole hours after t0.
    const hoursAfterStart = (d: Date) => Math.round((d.getTime() - t0) / HOUR);

    const loggedOut = await loginAdmin(t.http);
    await request(t.http).post('/api/v1/auth/logout').set(bearer(loggedOut)).expect(204);
    await loginAdmin(t.http); // abandoned: expires after ACCESS_TOKEN_TTL_SECONDS, never ended
    t.clock.advance(2 * HOUR);
    const recentlyOut = await loginAdmin(t.http);
    await request(t.http).post('/api/v1/auth/logout').set(bearer(recentlyOut)).expect(204);
    t.clock.set(new Date(t0 + SESSION_RETENTION_MS + HOUR));
    const live = await loginAdmin(t.http);
    expect(await sessions()).toHaveLength(4);

    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined), t.clock);
    try {
      const scheduler = worker.get(Scheduler);
      const job = worker.get(SessionPurgeJob);
      expect(scheduler.jobNames).toContain('session.purge');
      const before = await lastSeq(t);
      await scheduler.runNow(job);

      // Left: the logout 23 hours ago and the live session.
      const left = await sessions();
      expect(left).toEqual([
        { created: 2, ended: 2 },
        { created: 25, ended: null },
      ]);
      const events = (await db.query(`SELECT actor_id, actor_name, action, outcome, details FROM audit_events WHERE seq > $1 ORDER BY seq`, [before])) as Array<{
        details: { deadBefore: string };
      }>;
      expect(events).toEqual([
        { actor_id: null, actor_name: 'system', action: 'session.purge', outcome: 'allowed', details: { deleted: 2, deadBefore: expect.any(String) } },
      ]);
      expect(hoursAfterStart(new Date(events[0].details.deadBefore))).toBe(1);
      // The live session still works; a second run finds nothing and records nothing.
      await request(t.http).get('/api/v1/auth/me').set(bearer(live)).expect(200);
      const after = await lastSeq(t);
      await scheduler.runNow(job);
      expect(await sessions()).toEqual(left);
      expect(await lastSeq(t)).toBe(after);
    } finally {
      await worker.close();
    }
  });
});
