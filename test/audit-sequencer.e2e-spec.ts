import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AUDIT_SEQUENCER_LOCK, AuditSequencer, AuditService, AuditTrailService, AuditVerifier } from '@kura/audit';
import type { Actor } from '@kura/identity';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, superuser, tamper } from './support/audit';

/** A promise and the function that settles it: one side of a race held until the test lets go. */
function barrier(): { reached: Promise<void>; reach: () => void; release: () => void; released: Promise<void> } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  return { reached, reach, release, released };
}

/** Polls `probe` until it holds: waits for a state another process reaches, never for a guessed time. */
async function until(probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not reached');
}

/** Holds the sequencer lock on a connection of its own, as a stopped or blocked sequencer would. */
async function holdSequencerLock(t: TestApp): Promise<Client> {
  const db = await superuser(t);
  await db.query(`SELECT pg_advisory_lock(${AUDIT_SEQUENCER_LOCK})`);
  return db;
}

const pendingCount = async (t: TestApp, action: string): Promise<number> =>
  Number(((await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM audit_pending WHERE action = $1`, [action])) as Array<{ n: number }>)[0].n);

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

  describe('the window before chaining (what a database administrator can do to a pending row)', () => {
    it('an edit of a pending row is refused to the runtime role; one with the triggers bypassed is chained as edited: the writer detects it, verification cannot', async () => {
      const lock = await holdSequencerLock(t);
      let written: Promise<unknown>;
      try {
        written = t.app.get(AuditService).record({ actor: null, actorName: 'victim', action: 'window.edit', outcome: 'denied', details: { why: 'kept' } });
        written.catch(() => undefined);
        await until(async () => (await pendingCount(t, 'window.edit')) === 1);
        // The runtime role cannot rewrite a pending row (the trigger refuses UPDATE for every role)...
        await expect(t.app.get(DataSource).query(`UPDATE audit_pending SET outcome = 'allowed' WHERE action = 'window.edit'`)).rejects.toThrow(/append-only/);
        // ...but someone who can bypass the triggers can, until it is chained.
        await tamper(t, (db) => db.query(`UPDATE audit_pending SET outcome = 'allowed', details = '{"why":"forged"}' WHERE action = 'window.edit'`));
      } finally {
        await lock.end();
      }
      // The writer compares what was chained with what it wrote: the request fails and an alert is logged.
      await expect(written).rejects.toThrow(/altered before it was chained/);
      expect(t.logs.some((l) => l.includes('audit event was altered before it was chained'))).toBe(true);
      // The chain itself is valid: the forged content was hashed as if it were the original.
      const [row] = (await t.app.get(DataSource).query(`SELECT outcome, details::text AS details FROM audit_events WHERE action = 'window.edit'`)) as Array<{ outcome: string; details: string }>;
      expect(row).toEqual({ outcome: 'allowed', details: '{"why":"forged"}' });
      await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
    });

    it('a pending row deleted before chaining: the writer detects it, verification cannot', async () => {
      const lock = await holdSequencerLock(t);
      let written: Promise<unknown>;
      try {
        written = t.app.get(AuditService).record({ actor: null, actorName: 'victim', action: 'window.delete', outcome: 'denied' });
        written.catch(() => undefined);
        await until(async () => (await pendingCount(t, 'window.delete')) === 1);
        await tamper(t, (db) => db.query(`DELETE FROM audit_pending WHERE action = 'window.delete'`));
      } finally {
        await lock.end();
      }
      await expect(written).rejects.toThrow(/deleted before it was chained/);
      expect(t.logs.some((l) => l.includes('audit event was deleted before it was chained'))).toBe(true);
      expect(await t.app.get(DataSource).query(`SELECT seq FROM audit_events WHERE action = 'window.delete'`)).toEqual([]);
      await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
    });

    it('verification fails while a committed event stays unchained longer than the window, and passes once it is chained', async () => {
      const verifier = t.app.get(AuditVerifier);
      const trail = t.app.get(AuditTrailService);
      const auditor = { id: '00000000-0000-4000-8000-0000000a0d17', username: 'audrey' } as Actor;
      const lock = await holdSequencerLock(t);
      try {
        const head = await lastSeq(t);
        // A fresh pending event is within the window: not a failure.
        await tamper(t, (db) => db.query(`INSERT INTO audit_pending (actor_name, action, outcome) VALUES ('fresh', 'window.fresh', 'allowed')`));
        await expect(verifier.verify()).resolves.toMatchObject({ valid: true, checked: head });
        // One recorded 5 s ago and still unchained (no sequencer could take the lock).
        await tamper(t, (db) =>
          db.query(`INSERT INTO audit_pending (at, actor_name, action, outcome) VALUES (date_trunc('milliseconds', clock_timestamp()) - interval '5 seconds', 'stale', 'window.stale', 'allowed')`),
        );
        const stale = await verifier.verify();
        expect(stale).toMatchObject({ valid: false, checked: head, firstInvalidSeq: head + 1 });
        expect(stale.reason).toMatch(/^1 audit event\(s\) recorded more than 1000 ms ago are still unchained/);
        await expect(verifier.verifyIncremental()).resolves.toMatchObject({ valid: false, firstInvalidSeq: head + 1 });
      } finally {
        await lock.end();
      }
      // The auditor's verification chains what is pending first: both rows are chained, the chain is valid.
      await expect(trail.verify(auditor)).resolves.toMatchObject({ valid: true, firstInvalidSeq: null });
      expect(await pendingCount(t, 'window.stale')).toBe(0);
    });
  });
});

describe('audit sequencers of two instances racing', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ databaseUrl: a.databaseUrl, s3: a.s3, keysDir: a.config.keysDir });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('chain every event once, without gaps, while one holds the lock mid-batch', async () => {
    const ds = a.app.get(DataSource);
    const before = await lastSeq(a);
    const seqA = a.app.get(AuditSequencer);
    const seqB = b.app.get(AuditSequencer);
    // B waits for the lock as long as the test needs, so the order below is the only one possible.
    seqB.options.lockTimeoutMs = 60_000;
    const held = barrier();
    let first = true;
    seqA.beforeWrite = async () => {
      if (!first) return;
      first = false;
      held.reach();
      await held.released;
    };
    try {
      const record = (t: TestApp, name: string) => t.app.get(AuditService).record({ actor: null, actorName: name, action: 'race.event', outcome: 'allowed' });
      // A's sequencer has read its batch and holds the lock, before writing anything.
      const fromA = [record(a, 'a-0')];
      await held.reached;
      fromA.push(record(a, 'a-1'), record(a, 'a-2'));
      const fromB = [record(b, 'b-0'), record(b, 'b-1'), record(b, 'b-2')];
      await until(async () => (await pendingCount(a, 'race.event')) === 6);
      // B's sequencer is waiting for the advisory lock A holds.
      await until(async () => {
        const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)) as Array<{ n: number }>;
        return n >= 1;
      });
      held.release();
      const events = await Promise.all([...fromA, ...fromB]);
      const seqs = events.map((e) => Number(e.seq)).sort((x, y) => x - y);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6].map((k) => before + k));
    } finally {
      seqA.beforeWrite = undefined;
      held.release();
    }
    const rows = (await ds.query(`SELECT seq::int AS seq, actor_name, pending_id::text AS pending_id FROM audit_events WHERE seq > $1 ORDER BY audit_events.seq`, [before])) as Array<{
      seq: number;
      actor_name: string;
      pending_id: string;
    }>;
    // The first event, which A had read before the barrier, is chained first; no duplicates, no gaps.
    expect(rows[0]).toMatchObject({ seq: before + 1, actor_name: 'a-0' });
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6].map((k) => before + k));
    expect(new Set(rows.map((r) => r.pending_id)).size).toBe(6);
    expect(rows.map((r) => r.actor_name).sort()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2']);
    expect(await pendingCount(a, 'race.event')).toBe(0);
    await expect(a.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true, checked: before + 6 });
  });
});
