import { generateKeyPairSync, sign } from 'node:crypto';
import { Client } from 'pg';
import { AuditCheckpointService, AuditVerifier, checkpointPayload, eventHash, GENESIS_HASH } from '@kura/audit';
import { canonicalJson, DomainError } from '@kura/common';
import { startTestApp, TestApp } from './support/app';
import { recordEvents, superuser, tamper } from './support/audit';

/**
 * Each case: a fresh app, 20 events with signed checkpoints at 5, 10 and 20, then a
 * database administrator tampers with the triggers bypassed, and verify() must name
 * the exact first invalid sequence number.
 */
describe('audit chain tamper detection', () => {
  let t: TestApp;
  let verifier: AuditVerifier;

  beforeEach(async () => {
    t = await startTestApp();
    verifier = t.app.get(AuditVerifier);
    const checkpoints = t.app.get(AuditCheckpointService);
    await recordEvents(t, 5);
    await checkpoints.create();
    await recordEvents(t, 5);
    await checkpoints.create();
    await recordEvents(t, 10);
    await checkpoints.create();
    await expect(verifier.verify()).resolves.toEqual({ valid: true, checked: 20, firstInvalidSeq: null, reason: null });
  });
  afterEach(async () => {
    await t.close();
  });

  it('detects an edited row at that row', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 7`));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: 6,
      firstInvalidSeq: 7,
      reason: expect.stringMatching(/event 7 was altered/),
    });
  });

  it('detects an edit of the details JSON and of the time', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET details = details || '{"i": 999}'::jsonb WHERE seq = 12`));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: 12 });
    await tamper(t, (db) => db.query(`UPDATE audit_events SET at = at - interval '1 second' WHERE seq = 3`));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: 3, checked: 2 });
  });

  it('detects a deleted row in the middle at the missing sequence number', async () => {
    await tamper(t, (db) => db.query(`DELETE FROM audit_events WHERE seq = 10`));
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: 9,
      firstInvalidSeq: 10,
      reason: expect.stringMatching(/event 10 is missing/),
    });
  });

  it('detects a deleted row whose successors were renumbered, at the first broken link', async () => {
    await tamper(t, async (db) => {
      await db.query(`DELETE FROM audit_events WHERE seq = 15`);
      await db.query(`UPDATE audit_events SET seq = seq - 1 WHERE seq > 15`);
    });
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: 15, reason: expect.stringMatching(/does not link/) });
  });

  it('detects a truncated tail (fewer events than the last checkpoint covers) at the first missing sequence number', async () => {
    await tamper(t, async (db) => {
      await db.query(`DELETE FROM audit_events WHERE seq > 16`);
      // The attacker also rewinds the head row so that appends continue from the cut.
      const [last] = (await db.query(`SELECT seq, hash FROM audit_events WHERE seq = 16`)).rows as Array<{ seq: string; hash: string }>;
      await db.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [last.seq, last.hash]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: 16,
      firstInvalidSeq: 17,
      reason: expect.stringMatching(/chain ends at event 16 but signed checkpoint 20/),
    });
    // Appending after the cut does not hide it: the new event 20 differs from the signed checkpoint 20.
    await recordEvents(t, 4, 'after');
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, checked: 19, firstInvalidSeq: 20, reason: expect.stringMatching(/differs from signed checkpoint 20/) });
  });

  it('detects a forged checkpoint (signed with another key) at its sequence number', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    await tamper(t, async (db) => {
      const [row] = (await db.query(`SELECT seq::text AS seq, hash FROM audit_events WHERE seq = 15`)).rows as Array<{ seq: string; hash: string }>;
      const at = new Date('2026-01-01T00:00:00.000Z');
      const forged = sign(null, Buffer.from(canonicalJson(checkpointPayload({ ...row, at }))), privateKey).toString('base64');
      await db.query(`INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) VALUES (15, $1, $2, 'forged', $3)`, [row.hash, at, forged]);
    });
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: 14,
      firstInvalidSeq: 15,
      reason: expect.stringMatching(/checkpoint 15 has an invalid signature/),
    });
  });

  it('detects an altered checkpoint and a forged checkpoint beyond the end of the chain', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_checkpoints SET created_at = created_at + interval '1 day' WHERE seq = 10`));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: 10, reason: expect.stringMatching(/invalid signature/) });
    await tamper(t, async (db) => {
      await db.query(`UPDATE audit_checkpoints SET created_at = created_at - interval '1 day' WHERE seq = 10`);
      await db.query(`INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) VALUES (99, repeat('a', 64), now(), 'x', 'AAAA')`);
    });
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, checked: 20, firstInvalidSeq: 99, reason: expect.stringMatching(/checkpoint 99 has an invalid signature/) });
  });

  it('catches an attacker who edits a row and recomputes every later hash, at the next signed checkpoint', async () => {
    await tamper(t, async (db) => {
      await db.query(`UPDATE audit_events SET outcome = 'allowed', details = '{"i": 0}'::jsonb WHERE seq = 7`);
      await rechain(db, 7);
    });
    // The rewritten chain is internally consistent; only the signature over (10, hash) gives it away.
    await expect(verifier.verify()).resolves.toEqual({
      valid: false,
      checked: 9,
      firstInvalidSeq: 10,
      reason: expect.stringMatching(/event 10 differs from signed checkpoint 10/),
    });
  });

  it('does not trust the chain head row: a forged head breaks the next link, and no checkpoint blesses it', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_chain_head SET hash = repeat('b', 64)`));
    await expect(verifier.verify()).resolves.toMatchObject({ valid: true, checked: 20 });
    await recordEvents(t, 1, 'next');
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, checked: 20, firstInvalidSeq: 21, reason: expect.stringMatching(/does not link/) });
    const db = await superuser(t);
    try {
      await expect(t.app.get(AuditCheckpointService).create()).rejects.toThrow(DomainError);
      expect((await db.query(`SELECT seq FROM audit_checkpoints ORDER BY seq`)).rows.map((r: { seq: string }) => Number(r.seq))).toEqual([5, 10, 20]);
    } finally {
      await db.end();
    }
  });

  it('refuses to checkpoint over an edit made since the last checkpoint', async () => {
    await recordEvents(t, 3, 'more');
    await tamper(t, (db) => db.query(`UPDATE audit_events SET target_id = 'other' WHERE seq = 22`));
    await expect(t.app.get(AuditCheckpointService).create()).rejects.toMatchObject({ code: 'integrity-failed', extensions: { firstInvalidSeq: 22 } });
    await expect(t.app.get(AuditCheckpointService).list(1, 10)).resolves.toMatchObject({ total: 3 });
  });
});

/** What a careful attacker does after an edit: recompute every hash from `fromSeq` on, and the head. */
async function rechain(db: Client, fromSeq: number): Promise<void> {
  const rows = (
    await db.query(
      `SELECT seq::text AS seq, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address, user_agent,
              request_id, details, prev_hash FROM audit_events WHERE audit_events.seq >= $1 ORDER BY audit_events.seq`,
      [fromSeq],
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
  await db.query(`UPDATE audit_chain_head SET hash = $1`, [prev]);
}
