import { createPublicKey, verify } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService, checkpointPayload } from '@kura/audit';
import { canonicalJson } from '@kura/common';
import { AuthRejectionTally } from '@kura/identity';
import { Signer } from '@kura/signing';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, tamper } from './support/audit';
import { createUser, loginAdmin, TestUser } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const PROBLEM = /^application\/problem\+json/;

interface AuditRow {
  seq: string;
  actor_id: string | null;
  action: string;
  outcome: string;
  target_type: string | null;
  details: Record<string, unknown>;
}

const ROUTES: Array<{ method: 'get' | 'post'; path: string; ok: number }> = [
  { method: 'get', path: '/api/v1/audit/events', ok: 200 },
  { method: 'get', path: '/api/v1/audit/verify', ok: 200 },
  { method: 'get', path: '/api/v1/audit/checkpoints', ok: 200 },
  { method: 'post', path: '/api/v1/audit/checkpoints', ok: 201 },
];

/** The audit routes over HTTP with real sessions: only auditors get in, and every refusal is itself audited. */
describe('audit API over HTTP (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let admin: string;
  let auditor: TestUser;
  let others: Record<'staff' | 'records officer' | 'admin', string>;
  const eventsSince = (seq: number, action: string): Promise<AuditRow[]> =>
    db.query(`SELECT seq::text AS seq, actor_id, action, outcome, target_type, details FROM audit_events WHERE seq > $1 AND action = $2 ORDER BY seq`, [
      seq,
      action,
    ]);
  const checkpointCount = async (): Promise<number> => ((await db.query(`SELECT count(*)::int AS n FROM audit_checkpoints`)) as Array<{ n: number }>)[0].n;
  const events = (query: Record<string, string | number>) => request(t.http).get('/api/v1/audit/events').query(query).set(bearer(auditor.token));

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { username: 'audrey', roles: ['auditor'], clearance: 'SECRET', departments: [] });
    const staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
    const officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
    others = { staff: staff.token, 'records officer': officer.token, admin };
  });
  afterAll(async () => {
    await t.close();
  });

  describe.each(ROUTES)('$method $path', ({ method, path, ok }) => {
    it('lets an auditor in', async () => {
      const res = await request(t.http)[method](path).set(bearer(auditor.token));
      expect(res.status).toBe(ok);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    });

    it.each(['staff', 'records officer', 'admin'] as const)('answers a %s 403 problem, audits access.denied, and does nothing', async (who) => {
      const before = await lastSeq(t);
      const checkpointsBefore = await checkpointCount();
      const res = await request(t.http)[method](path).set(bearer(others[who]));
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 403, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
      const route = `${method.toUpperCase()} ${path}`;
      const denied = await eventsSince(before, 'access.denied');
      expect(denied).toEqual([
        expect.objectContaining({
          outcome: 'denied',
          target_type: 'AuditEvent',
          details: { route, action: 'read', subject: 'AuditEvent' },
        }),
      ]);
      expect(denied[0].actor_id).not.toBeNull();
      // Nothing else happened: no read was recorded as done, no checkpoint was signed.
      expect((await db.query(`SELECT action FROM audit_events WHERE seq > $1`, [before])) as unknown[]).toEqual([{ action: 'access.denied' }]);
      expect(await checkpointCount()).toBe(checkpointsBefore);
    });

    it('answers 401 problem without a token or with a bogus one', async () => {
      const before = await lastSeq(t);
      for (const headers of [{}, bearer('not-a-real-token')]) {
        const res = await request(t.http)[method](path).set(headers);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body).toMatchObject({ status: 401 });
      }
      // Anyone can send these at will: counted into one periodic summary, not appended one by one.
      expect(await eventsSince(before, 'auth.session')).toHaveLength(0);
      await t.app.get(AuthRejectionTally).flush();
      const refused = await eventsSince(before, 'auth.rejected');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ outcome: 'denied', actor_id: null, details: expect.objectContaining({ total: 2 }) });
      expect(JSON.stringify(refused)).not.toContain('not-a-real-token');
    });
  });

  it('serves the public key to anyone, with or without a session, and it verifies a checkpoint signed over HTTP', async () => {
    const anonymous = await request(t.http).get('/api/v1/keys/public').expect(200);
    expect(anonymous.body).toEqual({ keyId: t.app.get(Signer).keyId, algorithm: 'Ed25519', publicKeyPem: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\n/) });
    for (const token of [auditor.token, ...Object.values(others)]) {
      await request(t.http).get('/api/v1/keys/public').set(bearer(token)).expect(200, anonymous.body);
    }
    const created = await request(t.http).post('/api/v1/audit/checkpoints').set(bearer(auditor.token)).expect(201);
    expect(created.body).toMatchObject({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), algorithm: 'Ed25519', keyId: anonymous.body.keyId });
    const payload = Buffer.from(canonicalJson(checkpointPayload({ seq: String(created.body.seq), hash: created.body.hash, at: created.body.createdAt })));
    expect(verify(null, payload, createPublicKey(anonymous.body.publicKeyPem), Buffer.from(created.body.signature, 'base64'))).toBe(true);
    const listed = await request(t.http).get('/api/v1/audit/checkpoints').query({ pageSize: 1 }).set(bearer(auditor.token)).expect(200);
    expect(listed.body).toMatchObject({ page: 1, pageSize: 1, items: [created.body] });
  });

  describe('GET /audit/events filters', () => {
    const ALICE = '00000000-0000-4000-8000-00000000a11c';
    let seeded: Array<{ seq: number; at: string }>;

    beforeAll(async () => {
      const audit = t.app.get(AuditService);
      const rows: Array<[{ id: string; username: string } | null, string, string, string | undefined, 'allowed' | 'denied' | 'failed']> = [
        [{ id: ALICE, username: 'alice.h' }, 'httpfilter.read', 'hf-doc-1', 'Document', 'allowed'],
        [{ id: ALICE, username: 'alice.h' }, 'httpfilter.read', 'hf-doc-2', 'Document', 'denied'],
        [null, 'httpfilter.create', 'hf-doc-1', 'Document', 'allowed'],
        [null, 'httpfilter.login', 'hf-none', undefined, 'failed'],
        [{ id: ALICE, username: 'alice.h' }, 'httpfilter.update', 'hf-doc-1', 'Document', 'allowed'],
      ];
      seeded = [];
      for (const [actor, action, targetId, targetType, outcome] of rows) {
        const e = await audit.record({ actor, actorName: actor ? undefined : 'bob.h', action, targetId, targetType, outcome, details: { seeded: true } });
        seeded.push({ seq: Number(e.seq), at: e.at.toISOString() });
        // Distinct database timestamps for the from/to cases.
        await new Promise((r) => setTimeout(r, 5));
      }
    });

    const seqs = (body: { items: Array<{ seq: number }> }) => body.items.map((e) => e.seq);

    it('filters by actor id and by actor username', async () => {
      const byId = await events({ actor: ALICE }).expect(200);
      expect(byId.body).toMatchObject({ total: 3, page: 1, pageSize: 50 });
      expect(seqs(byId.body)).toEqual([seeded[0].seq, seeded[1].seq, seeded[4].seq]);
      const byName = await events({ actor: 'bob.h' }).expect(200);
      expect(seqs(byName.body)).toEqual([seeded[2].seq, seeded[3].seq]);
      expect(byName.body.items[0]).toMatchObject({ actorId: null, actorName: 'bob.h', action: 'httpfilter.create', targetId: 'hf-doc-1', outcome: 'allowed', details: { seeded: true } });
    });

    it('filters by action, targetId and outcome, combined with AND', async () => {
      await expect(events({ action: 'httpfilter.read' }).then((r) => seqs(r.body))).resolves.toEqual([seeded[0].seq, seeded[1].seq]);
      await expect(events({ targetId: 'hf-doc-1' }).then((r) => seqs(r.body))).resolves.toEqual([seeded[0].seq, seeded[2].seq, seeded[4].seq]);
      await expect(events({ outcome: 'failed', actor: 'bob.h' }).then((r) => seqs(r.body))).resolves.toEqual([seeded[3].seq]);
      await expect(events({ targetId: 'hf-doc-1', outcome: 'allowed', actor: ALICE }).then((r) => seqs(r.body))).resolves.toEqual([seeded[0].seq, seeded[4].seq]);
      const none = await events({ action: 'httpfilter.read', outcome: 'failed' }).expect(200);
      expect(none.body).toEqual({ items: [], page: 1, pageSize: 50, total: 0 });
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const window = await events({ targetId: 'hf-doc-1', from: seeded[0].at, to: seeded[4].at }).expect(200);
      expect(seqs(window.body)).toEqual([seeded[0].seq, seeded[2].seq]);
      const since = await events({ actor: ALICE, from: seeded[1].at }).expect(200);
      expect(seqs(since.body)).toEqual([seeded[1].seq, seeded[4].seq]);
      const until = await events({ actor: ALICE, to: seeded[1].at }).expect(200);
      expect(seqs(until.body)).toEqual([seeded[0].seq]);
    });

    it('pages in chain order with a stable total', async () => {
      const [p1, p2, p3] = await Promise.all([1, 2, 3].map((page) => events({ targetId: 'hf-doc-1', page, pageSize: 2 }).expect(200)));
      expect(p1.body).toMatchObject({ page: 1, pageSize: 2, total: 3 });
      expect(seqs(p1.body)).toEqual([seeded[0].seq, seeded[2].seq]);
      expect(p2.body).toMatchObject({ page: 2, pageSize: 2, total: 3 });
      expect(seqs(p2.body)).toEqual([seeded[4].seq]);
      expect(p3.body).toEqual({ items: [], page: 3, pageSize: 2, total: 3 });
    });

    it('audits each search before answering, with the filter used', async () => {
      const before = await lastSeq(t);
      await events({ action: 'httpfilter.read', outcome: 'denied' }).expect(200);
      const reads = await eventsSince(before, 'audit.events.read');
      expect(reads).toEqual([
        expect.objectContaining({ actor_id: auditor.id, outcome: 'allowed', details: { filter: { action: 'httpfilter.read', outcome: 'denied' }, page: 1, returned: 1, total: 1 } }),
      ]);
    });

    it.each([
      ['an empty actor', { actor: '' }, 'actor'],
      ['an action that is not a dotted name', { action: 'Drop Table' }, 'action'],
      ['an empty targetId', { targetId: '' }, 'targetId'],
      ['an unknown outcome', { outcome: 'maybe' }, 'outcome'],
      ['a from that is not ISO 8601', { from: 'yesterday' }, 'from'],
      ['a to with an impossible month', { to: '2026-13-01T00:00:00Z' }, 'to'],
      ['a from after to', { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'from'],
      ['page 0', { page: 0 }, 'page'],
      ['a page that is not a number', { page: 'two' }, 'page'],
      ['a pageSize above the maximum', { pageSize: 501 }, 'pageSize'],
      ['an unsupported format', { format: 'xml' }, 'format'],
      ['an unknown parameter', { actorName: 'alice' }, 'actorName'],
    ])('answers %s with a 400 problem naming the field, and records no read', async (_what, query, field) => {
      const before = await lastSeq(t);
      const res = await events(query as Record<string, string | number>);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 400, detail: expect.any(String) });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
      expect(await eventsSince(before, 'audit.events.read')).toEqual([]);
    });
  });
});

describe('GET /audit/verify over HTTP (e2e)', () => {
  let t: TestApp;
  let auditor: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { roles: ['auditor'], departments: [] });
  });
  afterAll(async () => {
    await t.close();
  });

  const verifyNow = () => request(t.http).get('/api/v1/audit/verify').set(bearer(auditor.token)).expect(200);

  it('answers {valid, checked, firstInvalidSeq, reason}, then names the first tampered event after a superuser edit', async () => {
    const good = await verifyNow();
    expect(Object.keys(good.body).sort()).toEqual(['checked', 'firstInvalidSeq', 'reason', 'valid']);
    // Everything up to and including the request's own login is verified; the verify event itself is appended after.
    const last = await lastSeq(t);
    expect(good.body).toEqual({ valid: true, checked: last - 1, firstInvalidSeq: null, reason: null });
    // Sign a checkpoint, so a careful attacker's recomputation is caught too.
    const checkpoint = await request(t.http).post('/api/v1/audit/checkpoints').set(bearer(auditor.token)).expect(201);

    const target = Math.floor(checkpoint.body.seq / 2);
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = $1`, [target]));
    const bad = await verifyNow();
    expect(bad.body).toEqual({
      valid: false,
      checked: target - 1,
      firstInvalidSeq: target,
      reason: `event ${target} was altered (its hash does not match its content)`,
    });
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    // The failed verification is itself on the record, with its result.
    const [row] = (await t.app.get(DataSource).query(`SELECT details FROM audit_events WHERE action = 'audit.verify' ORDER BY seq DESC LIMIT 1`)) as Array<{
      details: Record<string, unknown>;
    }>;
    expect(row.details).toEqual({ valid: false, checked: target - 1, firstInvalidSeq: target });
  });
});
