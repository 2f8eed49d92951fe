import { DataSource } from 'typeorm';
import { AuditService, AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { lastSeq } from './support/audit';

/** A promise and the function that settles it: one side of a race held until the test lets go. */
function barrier(): { reached: Promise<void>; reach: () => void; release: () => void; released: Promise<void> } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  return { reached, reach, release, released };
}

describe('audit: record in the transaction, chain after it', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('an open audited transaction does not block another audited transaction (no global lock)', async () => {
    const audit = t.app.get(AuditService);
    const ds = t.app.get(DataSource);
    const before = await lastSeq(t);
    const held = barrier();
    // A: appends, then stays open at the barrier (as a slow business transaction would).
    const a = ds.transaction(async (m) => {
      await audit.append(m, { actor: null, actorName: 'slow', action: 'lock.slow', outcome: 'allowed' });
      held.reach();
      await held.released;
    });
    await held.reached;
    // B: a whole audited transaction while A is open. With a chain-head row lock it would wait for A.
    const b = await ds.transaction(async (m) => {
      await m.query(`SET LOCAL lock_timeout = '3s'`);
      return audit.append(m, { actor: null, actorName: 'fast', action: 'lock.fast', outcome: 'allowed' });
    });
    expect(b).toBeDefined();
    held.release();
    await a;
    const rows = (await ds.query(`SELECT seq::int AS seq, action FROM audit_events WHERE seq > $1 ORDER BY audit_events.seq`, [before])) as Array<{ seq: number; action: string }>;
    // B committed first, so B is chained first; both are in the chain once, without gaps.
    expect(rows).toEqual([
      { seq: before + 1, action: 'lock.fast' },
      { seq: before + 2, action: 'lock.slow' },
    ]);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true, checked: before + 2 });
  });
});
