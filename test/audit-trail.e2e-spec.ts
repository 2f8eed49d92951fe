import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditCheckpointService, AuditRepository, AuditTrailService, checkpointPayload } from '@kura/audit';
import { canonicalJson, JsonLogger } from '@kura/common';
import { KeyRing } from '@kura/crypto';
import { Actor, Role } from '@kura/identity';
import { Signer } from '@kura/signing';
import { createWorker } from '../apps/worker/src/worker.factory';
import { AuditCheckpointJob } from '../apps/worker/src/jobs/audit-checkpoint.job';
import { Scheduler } from '../apps/worker/src/scheduler';
import { startTestApp, TestApp } from './support/app';
import { lastSeq } from './support/audit';
import { createDatabase } from './support/infra';

const auditor: Actor = {
  id: '00000000-0000-4000-8000-0000000000a1',
  username: 'audrey',
  roles: [Role.Auditor],
  clearance: 0,
  departments: [],
  designations: [],
  sessionId: 's1',
};
const ALICE = '00000000-0000-4000-8000-000000000001';

describe('audit trail: search, checkpoints, public key, worker job', () => {
  let t: TestApp;
  let trail: AuditTrailService;
  /** Events already in the trail at start-up (the bootstrap administrator's creation). */
  let base: number;

  beforeAll(async () => {
    t = await startTestApp();
    trail = t.app.get(AuditTrailService);
    base = await lastSeq(t);
    const ds = t.app.get(DataSource);
    const audit = t.app.get(AuditRepository);
    const rows: Array<[string | null, string, string, string | null, 'allowed' | 'denied' | 'failed']> = [
      [ALICE, 'alice', 'document.read', 'doc-1', 'allowed'],
      [ALICE, 'alice', 'document.read', 'doc-2', 'denied'],
      [null, 'bob', 'document.create', 'doc-1', 'allowed'],
      [null, 'bob', 'auth.login', null, 'failed'],
      [ALICE, 'alice', 'document.update', 'doc-1', 'allowed'],
    ];
    for (const [actorId, actorName, action, targetId, outcome] of rows) {
      await ds.transaction((m) =>
        audit.append(m, { actorId, actorName, action, targetType: 'Document', targetId, outcome, clientAddress: null, userAgent: null, requestId: null, details: {} }),
      );
      // Distinct database timestamps for the from/to test.
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('filters by actor (id or username), action, target, outcome; pages; audits the read', async () => {
    await expect(trail.search(auditor, { actor: ALICE })).resolves.toMatchObject({ total: 3, page: 1, pageSize: 50 });
    await expect(trail.search(auditor, { actor: 'bob' })).resolves.toMatchObject({ total: 2 });
    await expect(trail.search(auditor, { action: 'document.read' })).resolves.toMatchObject({ total: 2 });
    await expect(trail.search(auditor, { targetId: 'doc-1', outcome: 'allowed' })).resolves.toMatchObject({ total: 3 });
    await expect(trail.search(auditor, { outcome: 'failed' })).resolves.toMatchObject({ total: 1, items: [{ seq: base + 4, action: 'auth.login', actorName: 'bob', actorId: null }] });
    const page2 = await trail.search(auditor, { targetId: 'doc-1', page: 2, pageSize: 2 });
    expect(page2).toMatchObject({ page: 2, pageSize: 2, total: 3 });
    expect(page2.items.map((e) => e.seq)).toEqual([base + 5]);
    // Each search above was itself audited, before returning.
    const reads = await trail.search(auditor, { action: 'audit.events.read', actor: 'audrey' });
    expect(reads.total).toBe(6);
    expect(reads.items[0]).toMatchObject({ actorId: auditor.id, outcome: 'allowed', details: { filter: { actor: ALICE }, total: 3 } });
  });

  it('filters by time with from inclusive and to exclusive, and rejects from after to', async () => {
    const all = await trail.search(auditor, { action: 'document.read' });
    const [first, second] = all.items;
    await expect(trail.search(auditor, { action: 'document.read', from: first.at, to: second.at })).resolves.toMatchObject({ total: 1, items: [{ seq: first.seq }] });
    await expect(trail.search(auditor, { action: 'document.read', from: second.at })).resolves.toMatchObject({ total: 1, items: [{ seq: second.seq }] });
    await expect(trail.search(auditor, { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'validation' });
  });

  it('gives the access history of one target through the repository, newest first (for the documents module)', async () => {
    const history = await t.app.get(AuditRepository).findByTarget('doc-1', { page: 1, pageSize: 10 });
    expect(history.items.map((e) => [e.seq, e.action])).toEqual([
      [base + 5, 'document.update'],
      [base + 3, 'document.create'],
      [base + 1, 'document.read'],
    ]);
  });

  it('creates checkpoints on demand, idempotent on the head, verifiable with the public key alone', async () => {
    const first = await t.app.get(AuditCheckpointService).create();
    const again = await t.app.get(AuditCheckpointService).create();
    expect(again).toEqual(first);
    // On demand (the POST route): same head, so the same checkpoint; the request itself is audited afterwards.
    const viaRoute = await trail.createCheckpoint(auditor);
    expect(viaRoute).toMatchObject({ seq: Number(first?.seq), algorithm: 'Ed25519', keyId: t.app.get(Signer).keyId });
    await expect(trail.search(auditor, { action: 'audit.checkpoint.create' })).resolves.toMatchObject({ total: 1, items: [{ targetId: first?.seq }] });
    const list = await trail.listCheckpoints(auditor, {});
    expect(list.total).toBe(1);
    const c = list.items[0];
    const res = await request(t.http).get('/api/v1/keys/public').expect(200);
    expect(res.body).toEqual({ keyId: c.keyId, algorithm: 'Ed25519', publicKeyPem: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/) });
    const payload = Buffer.from(canonicalJson(checkpointPayload({ seq: String(c.seq), hash: c.hash, at: c.createdAt })));
    expect(verify(null, payload, createPublicKey(res.body.publicKeyPem), Buffer.from(c.signature, 'base64'))).toBe(true);
    const verified = await trail.verify(auditor);
    expect(verified).toMatchObject({ valid: true, firstInvalidSeq: null, reason: null });
  });

  it('on an empty trail (a worker started on a fresh database before any api): verify is valid with nothing checked; an on-demand checkpoint is a 409 conflict, audited as failed', async () => {
    // An api instance is never an empty trail (it audits creating the bootstrap administrator); the worker does not.
    const databaseUrl = await createDatabase();
    let worker = await createWorker(t.config, { databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined));
    try {
      await expect(lastSeq({ databaseUrl })).resolves.toBe(0);
      await expect(worker.get(AuditCheckpointService).create()).resolves.toBeNull();
      await expect(worker.get(AuditTrailService).verify(auditor)).resolves.toEqual({ valid: true, checked: 0, firstInvalidSeq: null, reason: null });
    } finally {
      await worker.close();
    }
    // verify() itself was audited, so empty it is no more; a second fresh database for the empty-checkpoint case.
    const other = await createDatabase();
    worker = await createWorker(t.config, { databaseUrl: other, s3: t.s3 }, new JsonLogger('error', () => undefined));
    try {
      await expect(worker.get(AuditTrailService).createCheckpoint(auditor)).rejects.toMatchObject({ code: 'conflict' });
      const events = await worker.get(AuditRepository).search({}, { page: 1, pageSize: 10 });
      expect(events.items).toMatchObject([{ seq: 1, action: 'audit.checkpoint.create', outcome: 'failed', actorName: 'audrey' }]);
      await expect(worker.get(AuditCheckpointService).list(1, 10)).resolves.toEqual({ items: [], total: 0 });
    } finally {
      await worker.close();
    }
  });

  it('refuses to start in production without a provisioned signing key, with one clear message', async () => {
    // Provision only the key-encryption key, so the signing key is the one missing.
    const keysDir = await mkdtemp(path.join(os.tmpdir(), 'kura-keys-'));
    new KeyRing(keysDir, { production: false, logger: { warn: () => undefined, log: () => undefined } }).init();
    await expect(startTestApp({ databaseUrl: t.databaseUrl, s3: t.s3, keysDir, env: { NODE_ENV: 'production' } })).rejects.toThrow(
      /signing key .*signing-ed25519\.pem does not exist\. In production the key is never generated/,
    );
  });

  it('registers the checkpoint job in the worker, which signs the head with the same key', async () => {
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined));
    try {
      const scheduler = worker.get(Scheduler);
      expect(scheduler.jobNames).toContain('audit.checkpoint');
      await t.app.get(AuditTrailService).search(auditor, {});
      const before = await t.app.get(AuditCheckpointService).list(1, 1);
      const job = worker.get(AuditCheckpointJob);
      expect(job.intervalSeconds).toBe(t.config.auditCheckpointIntervalSeconds);
      await scheduler.runNow(job);
      const after = await t.app.get(AuditCheckpointService).list(1, 1);
      expect(after.total).toBe(before.total + 1);
      expect(Number(after.items[0].seq)).toBeGreaterThan(Number(before.items[0].seq));
      await expect(trail.verify(auditor)).resolves.toMatchObject({ valid: true });
    } finally {
      await worker.close();
    }
  });
});
