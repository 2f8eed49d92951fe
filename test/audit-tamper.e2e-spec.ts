import { generateKeyPairSync, sign } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditCheckpointService, AuditService, AuditVerifier, checkpointPayload, eventHash, GENESIS_HASH } from '@kura/audit';
import { canonicalJson, DomainError } from '@kura/common';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, recordEvents, superuser, tamper } from './support/audit';

/**
 * Each case: a fresh app, whose trail already holds the start-up events (b of them: the
 * bootstrap administrator's creation), then 20 events with signed checkpoints at b+5, b+10
 * and b+20; a database administrator tampers with the triggers bypassed, and verify()
 * must name the exact first invalid sequence number. `s(k)` is the k-th test event's seq.
 * Every case runs twice: reading the chain as one stream, and as two halves on two
 * connections (what long chains get), which must find exactly the same.
 */
describe.each([
  ['one stream', Number.MAX_SAFE_INTEGER],
  ['two halves', 0],
])('audit chain tamper detection (%s)', (_mode, splitAbove) => {
  let t: TestApp;
  let verifier: AuditVerifier;
  let base: number;
  const s = (k: number): number => base + k;

  beforeEach(async () => {
    t = await startTestApp();
    verifier = t.app.get(AuditVerifier);
    verifier.splitAbove = splitAbove;
    const checkpoints = t.app.get(AuditCheckpointService);
    base = await lastSeq(t);
    expect(base).toBeGreaterThan(0);
    await recordEvents(t, 5);
    await expect(checkpoints.create()).resolves.toMatchObject({ seq: String(s(5)) });
    await recordEvents(t, 5);
    await expect(checkpoints.create()).resolves.toMatchObject({ seq: String(s(10)) });
    await recordEvents(t, 10);
    await expect(checkpoints.create()).resolves.toMatchObject({ seq: String(s(20)) });
    await expect(verifier.verify()).resolves.toEqual({ valid: true, checked: s(20), firstInvalidSeq: null, reason: null });
  });
  afterEach(async () => {
    await t.close();
  });

  it('detects an edited row at that row', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = $1`, [s(7)]));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(6),
      firstInvalidSeq: s(7),
      reason: `event ${s(7)} was altered (its hash does not match its content)`,
    });
  });

  it('detects an edit of the details JSON and of the time', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET details = (details::jsonb || '{"i": 999}')::json WHERE seq = $1`, [s(12)]));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, checked: s(11), firstInvalidSeq: s(12) });
    await tamper(t, (db) => db.query(`UPDATE audit_events SET at = at - interval '1 second' WHERE seq = $1`, [s(3)]));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: s(3), checked: s(2) });
  });

  it('detects an edit of the time by one microsecond', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET at = at + interval '1 microsecond' WHERE seq = $1`, [s(9)]));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, checked: s(8), firstInvalidSeq: s(9) });
  });

  it('detects details rewritten to the same content in other text (the stored canonical text is what is hashed)', async () => {
    // Through jsonb: same keys and values, but key order and spacing as PostgreSQL prints jsonb.
    await tamper(t, (db) => db.query(`UPDATE audit_events SET details = details::jsonb::json WHERE seq = $1`, [s(4)]));
    const [row] = (await t.app.get(DataSource).query(`SELECT details::text AS text, details FROM audit_events WHERE seq = $1`, [s(4)])) as Array<{
      text: string;
      details: unknown;
    }>;
    expect(row.details).toEqual({ i: 3, note: 'événement 3 監査', nested: { list: [3, '3'] } });
    expect(row.text).not.toBe(canonicalJson(row.details));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(3),
      firstInvalidSeq: s(4),
      reason: `event ${s(4)} was altered (its hash does not match its content)`,
    });
  });

  it('detects an edit of the first event of the trail (the genesis link)', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET outcome = 'denied' WHERE seq = 1`));
    await expect(verifier.verify()).resolves.toEqual({ valid: false, checked: 0, firstInvalidSeq: 1, reason: 'event 1 was altered (its hash does not match its content)' });
  });

  it('detects a deleted row in the middle at the missing sequence number', async () => {
    await tamper(t, (db) => db.query(`DELETE FROM audit_events WHERE seq = $1`, [s(10)]));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(9),
      firstInvalidSeq: s(10),
      reason: `event ${s(10)} is missing (the next stored event is ${s(11)})`,
    });
  });

  it('reports an event renumbered beyond 2^53 as missing, never fails to answer', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET seq = 9000000000000000000 WHERE seq = $1`, [s(20)]));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(19),
      firstInvalidSeq: s(20),
      reason: `event ${s(20)} is missing (the next stored event is 9000000000000000000)`,
    });
  });

  it('detects a deleted row whose successors were renumbered, at the first broken link', async () => {
    await tamper(t, async (db) => {
      await db.query(`DELETE FROM audit_events WHERE seq = $1`, [s(15)]);
      await db.query(`UPDATE audit_events SET seq = seq - 1 WHERE seq > $1`, [s(15)]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(14),
      firstInvalidSeq: s(15),
      reason: `event ${s(15)} does not link to event ${s(14)} (prev_hash differs)`,
    });
  });

  it('detects a truncated tail (fewer events than the last checkpoint covers) at the first missing sequence number', async () => {
    await tamper(t, async (db) => {
      await db.query(`DELETE FROM audit_events WHERE seq > $1`, [s(16)]);
      // The attacker also rewinds the head row so that appends continue from the cut.
      const [last] = (await db.query(`SELECT seq, hash FROM audit_events WHERE seq = $1`, [s(16)])).rows as Array<{ seq: string; hash: string }>;
      await db.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [last.seq, last.hash]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(16),
      firstInvalidSeq: s(17),
      reason: `the chain ends at event ${s(16)} but signed checkpoint ${s(20)} covers it: events were removed from the tail`,
    });
    // Appending after the cut does not hide it: the new event s(20) differs from the signed checkpoint at s(20).
    await recordEvents(t, 4, 'after');
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(19),
      firstInvalidSeq: s(20),
      reason: `event ${s(20)} differs from signed checkpoint ${s(20)}: the chain was rewritten up to here`,
    });
  });

  it('detects a forged checkpoint (signed with another key) at its sequence number', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await tamper(t, async (db) => {
      const [row] = (await db.query(`SELECT seq::text AS seq, hash FROM audit_events WHERE seq = $1`, [s(15)])).rows as Array<{ seq: string; hash: string }>;
      const at = new Date('2026-01-01T00:00:00.000Z');
      const forged = sign(null, Buffer.from(canonicalJson(checkpointPayload({ ...row, at }))), privateKey).toString('base64');
      await db.query(`INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) VALUES ($1, $2, $3, 'forged', $4)`, [s(15), row.hash, at, forged]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(14),
      firstInvalidSeq: s(15),
      reason: `checkpoint ${s(15)} has an invalid signature (forged or altered)`,
    });
  });

  it('detects an altered checkpoint and a forged checkpoint beyond the end of the chain', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_checkpoints SET created_at = created_at + interval '1 day' WHERE seq = $1`, [s(10)]));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(9),
      firstInvalidSeq: s(10),
      reason: `checkpoint ${s(10)} has an invalid signature (forged or altered)`,
    });
    await tamper(t, async (db) => {
      await db.query(`UPDATE audit_checkpoints SET created_at = created_at - interval '1 day' WHERE seq = $1`, [s(10)]);
      await db.query(`INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) VALUES ($1, repeat('a', 64), now(), 'x', 'AAAA')`, [s(99)]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(20),
      firstInvalidSeq: s(99),
      reason: `checkpoint ${s(99)} has an invalid signature (forged or altered)`,
    });
  });

  it('catches an attacker who edits a row and recomputes every later hash, at the next signed checkpoint', async () => {
    await tamper(t, async (db) => {
      await db.query(`UPDATE audit_events SET outcome = 'allowed', details = '{"i":0}' WHERE seq = $1`, [s(7)]);
      await rechain(db, s(7));
    });
    // The rewritten chain is internally consistent; only the signature over (s(10), hash) gives it away.
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(9),
      firstInvalidSeq: s(10),
      reason: `event ${s(10)} differs from signed checkpoint ${s(10)}: the chain was rewritten up to here`,
    });
  });

  it('does not trust the chain head row: a forged head breaks the next link, and no checkpoint blesses it', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_chain_head SET hash = repeat('b', 64)`));
    await expect(verifier.verify()).resolves.toEqual({ valid: true, checked: s(20), firstInvalidSeq: null, reason: null });
    await recordEvents(t, 1, 'next');
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(20),
      firstInvalidSeq: s(21),
      reason: `event ${s(21)} does not link to event ${s(20)} (prev_hash differs)`,
    });
    const db = await superuser(t);
    try {
      await expect(t.app.get(AuditCheckpointService).create()).rejects.toThrow(DomainError);
      expect((await db.query(`SELECT seq FROM audit_checkpoints ORDER BY seq`)).rows.map((r: { seq: string }) => Number(r.seq))).toEqual([s(5), s(10), s(20)]);
    } finally {
      await db.end();
    }
  });

  it('reads an event whose free text holds separators and JSON-special characters exactly, and catches an edit of it', async () => {
    await t.app.get(AuditService).record({
      actor: { id: '00000000-0000-4000-8000-000000000001', username: 'ali\u001fce' },
      action: 'test.separator',
      targetType: '\u001f',
      targetId: '=\u001f=',
      outcome: 'allowed',
      details: { '\u001f': 'a\u001fb', quote: '"\\\n\t\u0001\u2028 監査 \u{1F600}', n: 1.5e-7 },
    });
    await expect(verifier.verify()).resolves.toEqual({ valid: true, checked: s(21), firstInvalidSeq: null, reason: null });
    // Moving characters between neighbouring columns keeps their concatenation identical; the length prefixes still tell.
    await tamper(t, (db) => db.query(`UPDATE audit_events SET target_type = '\u001f=', target_id = '\u001f' WHERE seq = $1`, [s(21)]));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(20),
      firstInvalidSeq: s(21),
      reason: `event ${s(21)} was altered (its hash does not match its content)`,
    });
  });

  it('catches a NULL smuggled into a NOT NULL column with its text moved into the next column', async () => {
    // With the constraints dropped, actor_name NULL + action 'alice<U+001F>test.event' holds the same characters as
    // the original row; a NULL encodes differently from any text (length -1), so the hash tells.
    await tamper(t, async (db) => {
      await db.query(`ALTER TABLE audit_events ALTER COLUMN actor_name DROP NOT NULL`);
      await db.query(`ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS ck_audit_events_action`);
      await db.query(`UPDATE audit_events SET actor_name = NULL, action = actor_name || E'\\x1f' || action WHERE seq = $1`, [s(8)]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: s(7),
      firstInvalidSeq: s(8),
      reason: `event ${s(8)} was altered (its hash does not match its content)`,
    });
  });

  describe('at the seam between the halves', () => {
    // With 10 more events the chain ends at s(30); a split chain's second half starts at `mid`,
    // which sits between the checkpoints at s(10) and s(20).
    let mid: number;
    beforeEach(async () => {
      await recordEvents(t, 10, 'more');
      mid = 1 + Math.floor(s(30) / 2);
      expect(mid - 1).toBeGreaterThan(s(10));
      expect(mid).toBeLessThan(s(20));
    });

    it('detects an edit of the first event of the second half', async () => {
      await tamper(t, (db) => db.query(`UPDATE audit_events SET target_id = 'x' WHERE seq = $1`, [mid]));
      await expect(verifier.verify()).resolves.toEqual({
        valid: false,
        checked: mid - 1,
        firstInvalidSeq: mid,
        reason: `event ${mid} was altered (its hash does not match its content)`,
      });
    });

    it('detects the deletion of the first event of the second half and of the last of the first', async () => {
      await tamper(t, (db) => db.query(`DELETE FROM audit_events WHERE seq = $1`, [mid]));
      await expect(verifier.verify()).resolves.toEqual({
        valid: false,
        checked: mid - 1,
        firstInvalidSeq: mid,
        reason: `event ${mid} is missing (the next stored event is ${mid + 1})`,
      });
      await tamper(t, (db) => db.query(`DELETE FROM audit_events WHERE seq = $1`, [mid - 1]));
      await expect(verifier.verify()).resolves.toEqual({
        valid: false,
        checked: mid - 2,
        firstInvalidSeq: mid - 1,
        reason: `event ${mid - 1} is missing (the next stored event is ${mid + 1})`,
      });
    });

    it('detects a broken link across the seam when the last event of the first half is edited and rehashed', async () => {
      await tamper(t, async (db) => {
        await db.query(`UPDATE audit_events SET details = '{"i":-1}' WHERE seq = $1`, [mid - 1]);
        await rechain(db, mid - 1, mid - 1);
      });
      await expect(verifier.verify()).resolves.toEqual({
        valid: false,
        checked: mid - 1,
        firstInvalidSeq: mid,
        reason: `event ${mid} does not link to event ${mid - 1} (prev_hash differs)`,
      });
    });
  });

  it('refuses to checkpoint over an edit made since the last checkpoint', async () => {
    await recordEvents(t, 3, 'more');
    await tamper(t, (db) => db.query(`UPDATE audit_events SET target_id = 'other' WHERE seq = $1`, [s(22)]));
    await expect(t.app.get(AuditCheckpointService).create()).rejects.toMatchObject({ code: 'integrity-failed', extensions: { firstInvalidSeq: s(22) } });
    await expect(t.app.get(AuditCheckpointService).list(1, 10)).resolves.toMatchObject({ total: 3 });
  });
});

/** What a careful attacker does after an edit: recompute every hash from `fromSeq` on (to `toSeq`), and the head. */
async function rechain(db: Client, fromSeq: number, toSeq = Number.MAX_SAFE_INTEGER): Promise<void> {
  const rows = (
    await db.query(
      `SELECT seq::text AS seq, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address, user_agent,
              request_id, details, prev_hash FROM audit_events WHERE audit_events.seq BETWEEN $1 AND $2 ORDER BY audit_events.seq`,
      [fromSeq, toSeq],
    )
  ).rows as Array<Record<string, unknown>>;
  let prev = fromSeq === 1 ? GENESIS_HASH : ((await db.query(`SELECT hash FROM audit_events WHERE seq = $1`, [fromSeq - 1])).rows[0].hash as string);
  for (const r of rows) {
    const hash = eventHash({
      seq: r.seq as string,
      at: r.at as Date,
      actorId: r.actor_id as string | null,
      actorName: r.actor_name as string,
      action: r.action as string,
      targetType: r.target_type as string | null,
      targetId: r.target_id as string | null,
      outcome: r.outcome as string,
      clientAddress: r.client_address as string | null,
      userAgent: r.user_agent as string | null,
      requestId: r.request_id as string | null,
      details: r.details as Record<string, unknown>,
      prevHash: prev,
    });
    await db.query(`UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3`, [prev, hash, r.seq]);
    prev = hash;
  }
  if (toSeq === Number.MAX_SAFE_INTEGER) await db.query(`UPDATE audit_chain_head SET hash = $1`, [prev]);
}
