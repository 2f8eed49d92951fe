import * as http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { TransactionRunner } from '@kura/database';
import { DOCUMENT_STATUSES, DocumentLifecycle, DocumentStatus, mayTransition } from '@kura/documents';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';
import { createUser, login, loginAdmin, TestUser } from './support/auth';
import { driveTo, objectKeys, sql } from './support/documents';
import { multipart } from './support/multipart';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

/** A promise and its resolver: one side of a barrier. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * A document's life is one state machine (active → on hold → pending disposition →
 * destroyed) owned by the documents capability; every commit path re-checks it under the
 * row lock and PostgreSQL refuses what it forbids. Races are driven with barriers, not sleeps.
 */
describe('document lifecycle', () => {
  let t: TestApp;
  let store: ObjectStore;
  let clerk: TestUser;
  let officerA: TestUser;
  let officerB: TestUser;
  let seriesId: string;

  beforeAll(async () => {
    t = await startTestApp({ worker: true });
    store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
    officerA = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' });
    officerB = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' });
    const series = await request(t.http)
      .post('/api/v1/retention/series')
      .set(auth(officerA))
      .send({ code: 'LIFECYCLE-1D', name: 'one day', years: 0, months: 0, days: 1, trigger: 'created', disposition: 'destroy', citation: 'test' })
      .expect(201);
    seriesId = series.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  /** A record uploaded by the clerk in the one-day series, then the clock moved past its disposition date. */
  async function dueRecord(title: string): Promise<string> {
    const res = await request(t.http)
      .post('/api/v1/documents')
      .set(auth(clerk))
      .field('title', title)
      .field('kind', 'record')
      .field('classification', 'INTERNAL')
      .field('department', 'hr')
      .field('seriesId', seriesId)
      .attach('file', randomBytes(4096), 'v1.bin')
      .expect(201);
    t.clock.advance(2 * DAY);
    for (const u of [clerk, officerA, officerB]) u.token = await login(t.http, u.username, u.password);
    return res.body.id as string;
  }

  /** Proposes and approves (four-eyes) the destruction of one document; the in-process worker executes it within approve's wait. */
  async function destroy(documentId: string): Promise<string> {
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(auth(officerA)).send({ documentIds: [documentId] }).expect(201);
    const approved = await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(auth(officerB)).send({}).expect(200);
    expect(approved.body).toMatchObject({ state: 'completed', items: [{ documentId, state: 'destroyed' }] });
    return proposal.body.id as string;
  }

  /** Holds every object write under documents/<id>/ at a barrier: the upload has passed its status check. */
  function holdObjectWrites(documentId: string): { started: Promise<void>; release: () => void; restore: () => void } {
    const started = gate();
    const released = gate();
    const put = store.put.bind(store);
    store.put = async (key, body, options) => {
      if (key.startsWith(`documents/${documentId}/`)) {
        started.open();
        await released.promise;
      }
      return put(key, body, options);
    };
    return { started: started.promise, release: released.open, restore: () => (store.put = put) };
  }

  /** POST /documents/:id/versions with a streamed body, answered whenever the server answers. */
  function uploadVersion(documentId: string): Promise<{ status: number; body: Record<string, unknown>; contentType: string }> {
    const server = t.http.listening ? t.http : t.http.listen(0);
    const { port } = server.address() as { port: number };
    const m = multipart([['comment', 'late draft']], { filename: 'v2.bin', content: randomBytes(256 * 1024) });
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/api/v1/documents/${documentId}/versions`, headers: { ...auth(clerk), 'If-Match': '"v1"', 'Content-Type': m.contentType, 'Transfer-Encoding': 'chunked' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>, contentType: String(res.headers['content-type']) }));
      });
      req.on('error', reject);
      m.body.pipe(req);
    });
  }

  /** After destruction: no live key, no object, and the certificate names exactly the versions that exist. */
  async function expectNothingLeft(documentId: string, batchId: string): Promise<void> {
    const versions = await sql<{ number: number; has_key: boolean; storage_key: string }>(t.databaseUrl, `SELECT number, wrapped_key IS NOT NULL AS has_key, storage_key FROM document_versions WHERE document_id = $1 ORDER BY number`, [documentId]);
    expect(versions.filter((v) => v.has_key)).toEqual([]);
    expect((await objectKeys(t.s3)).filter((k) => k.startsWith(`documents/${documentId}/`))).toEqual([]);
    expect(await sql(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [documentId])).toEqual([{ status: 'destroyed' }]);
    const cert = await request(t.http).get(`/api/v1/disposition/batches/${batchId}/certificate`).set(auth(officerA)).set('Accept', 'application/json').expect(200);
    const certified = JSON.parse(cert.text) as { certificate: { records: Array<{ recordId: string; versions: Array<{ number: number; objectKey: string }> }> } };
    const record = certified.certificate.records.find((r) => r.recordId === documentId)!;
    expect(record.versions.map((v) => [v.number, v.objectKey])).toEqual(versions.map((v) => [v.number, v.storage_key]));
  }

  it('a new version whose upload commits after the disposition executed is refused; nothing of it survives', async () => {
    const id = await dueRecord('slow upload after destruction');
    const barrier = holdObjectWrites(id);
    try {
      const upload = uploadVersion(id);
      await barrier.started; // the upload passed its status check and is streaming
      const batchId = await destroy(id);
      barrier.release();
      const res = await upload;
      expect(res.status).toBe(410);
      expect(res.contentType).toMatch(/problem\+json/);
      await expectNothingLeft(id, batchId);
      expect(await sql(t.databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'document.version' AND target_id = $1 AND outcome = 'allowed'`, [id])).toEqual([]);
    } finally {
      barrier.restore();
    }
  });

  it('a restore that commits after the disposition executed is refused; nothing of it survives', async () => {
    const id = await dueRecord('slow restore after destruction');
    const barrier = holdObjectWrites(id);
    try {
      const restore = request(t.http).post(`/api/v1/documents/${id}/versions/1/restore`).set(auth(clerk)).then((r) => r);
      await barrier.started;
      const batchId = await destroy(id);
      barrier.release();
      const res = await restore;
      expect([409, 410]).toContain(res.status);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      await expectNothingLeft(id, batchId);
    } finally {
      barrier.restore();
    }
  });

  it('a new version committing between the crypto-erase and the object deletion is refused', async () => {
    const id = await dueRecord('upload during destruction');
    const barrier = holdObjectWrites(id);
    // Hold the executor's first object deletion (the erase step has committed by then) until the upload has answered.
    // The worker executes the batch: its object store deletes.
    const workerStore = t.worker!.get(ObjectStore);
    const del = workerStore.delete.bind(workerStore);
    let uploadAnswered: Promise<{ status: number }> | undefined;
    workerStore.delete = async (key) => {
      if (key.startsWith(`documents/${id}/`) && uploadAnswered === undefined) {
        barrier.release();
        uploadAnswered = upload;
        await upload;
      }
      return del(key);
    };
    const upload = uploadVersion(id);
    try {
      await barrier.started;
      const batchId = await destroy(id);
      const res = await upload;
      expect(res.status).toBe(409);
      await expectNothingLeft(id, batchId);
    } finally {
      barrier.restore();
      workerStore.delete = del;
    }
  });

  describe('PostgreSQL refuses what the state machine forbids', () => {
    /** A document row with one keyed version, inserted directly (no service), then walked to `status`. */
    async function rawDocument(status: DocumentStatus = 'active'): Promise<string> {
      const id = randomUUID();
      await sql(t.databaseUrl, `INSERT INTO documents (id, title, kind, classification, department, owner_id, personal_data, status, current_version, created_at, updated_at)
                                VALUES ($1, 'raw', 'record', 1, 'hr', $2, 'none', 'active', 1, now(), now())`, [id, randomUUID()]);
      await insertVersion(id, 1);
      await driveTo({ query: (text: string, params?: unknown[]) => sql(t.databaseUrl, text, params) }, id, status);
      return id;
    }
    function insertVersion(documentId: string, number: number) {
      return sql(t.databaseUrl, `INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, wrapped_key, kek_id, nonce_prefix, chunk_size)
                                 VALUES ($1, $2, $3, 1, repeat('a', 64), 'text/plain', 'x.txt', $4, now(), $5, $6, 'kek-1', $7, 1048576)`,
        [randomUUID(), documentId, number, randomUUID(), `documents/${documentId}/${randomUUID()}`, randomBytes(60), randomBytes(8)]);
    }
    const refused = /cannot go from|cannot change|no new version|no key write|erased only|created active|read-only/;

    const pairs = DOCUMENT_STATUSES.flatMap((from) => DOCUMENT_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));
    it.each(pairs)('%s → %s is admitted exactly when the state machine allows it', async (from, to) => {
      const id = await rawDocument(from);
      const update = sql(t.databaseUrl, `UPDATE documents SET status = $2 WHERE id = $1`, [id, to]);
      if (mayTransition(from, to)) await update;
      else await expect(update).rejects.toThrow(refused);
      expect(await sql(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [id])).toEqual([{ status: mayTransition(from, to) ? to : from }]);
    });

    it('a document is created active', async () => {
      const id = randomUUID();
      await expect(sql(t.databaseUrl, `INSERT INTO documents (id, title, kind, classification, department, owner_id, personal_data, status, current_version, created_at, updated_at)
                                        VALUES ($1, 'raw', 'record', 1, 'hr', $2, 'none', 'destroyed', 1, now(), now())`, [id, randomUUID()])).rejects.toThrow(refused);
      expect(await sql(t.databaseUrl, `SELECT id FROM documents WHERE id = $1`, [id])).toEqual([]);
    });

    it.each(['pending_disposition', 'destroyed'] as const)('no version, metadata change or key write for a document %s', async (status) => {
      const id = await rawDocument(status);
      await expect(insertVersion(id, 2)).rejects.toThrow(refused);
      for (const set of [`title = 'renamed'`, `classification = 0`, `series_id = NULL, tags = '{x}'`, `current_version = 2`, `updated_at = now() + interval '1 day'`, `personal_data = 'specific'`]) {
        await expect(sql(t.databaseUrl, `UPDATE documents SET ${set} WHERE id = $1`, [id])).rejects.toThrow(refused);
      }
      await expect(sql(t.databaseUrl, `UPDATE document_versions SET wrapped_key = $2, kek_id = 'kek-2' WHERE document_id = $1`, [id, randomBytes(60)])).rejects.toThrow(/no key write|cannot be restored/);
      // Reading a tombstone still records when it was last accessed.
      await sql(t.databaseUrl, `UPDATE documents SET last_accessed_at = now() WHERE id = $1`, [id]);
      expect(await sql(t.databaseUrl, `SELECT title, classification, current_version, status FROM documents WHERE id = $1`, [id])).toEqual([{ title: 'raw', classification: 1, current_version: 1, status }]);
      expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM document_versions WHERE document_id = $1`, [id])).toEqual([{ n: 1 }]);
    });

    it('a key is erased only by a disposition in progress; held documents still take versions and re-wraps', async () => {
      const active = await rawDocument('active');
      await expect(sql(t.databaseUrl, `UPDATE document_versions SET wrapped_key = NULL WHERE document_id = $1`, [active])).rejects.toThrow(refused);
      expect(await sql(t.databaseUrl, `SELECT wrapped_key IS NOT NULL AS k FROM document_versions WHERE document_id = $1`, [active])).toEqual([{ k: true }]);
      const held = await rawDocument('on_hold');
      await insertVersion(held, 2);
      await sql(t.databaseUrl, `UPDATE document_versions SET wrapped_key = $2, kek_id = 'kek-2' WHERE document_id = $1`, [held, randomBytes(60)]);
      await sql(t.databaseUrl, `UPDATE documents SET title = 'held, retitled', current_version = 2 WHERE id = $1`, [held]);
    });

    it('the published views are read-only', async () => {
      const id = await rawDocument('active');
      await expect(sql(t.databaseUrl, `UPDATE document_facts SET status = 'destroyed' WHERE id = $1`, [id])).rejects.toThrow(/read-only/);
      await expect(sql(t.databaseUrl, `DELETE FROM document_version_facts WHERE document_id = $1`, [id])).rejects.toThrow(/read-only/);
      expect(await sql(t.databaseUrl, `SELECT status, has_key FROM document_facts d JOIN document_version_facts v ON v.document_id = d.id WHERE d.id = $1`, [id])).toEqual([{ status: 'active', has_key: true }]);
    });
  });

  describe('DocumentLifecycle.markDestroyed', () => {
    it('refuses while a data key or an object remains, and answers exactly the versions it recorded destroyed', async () => {
      const lifecycle = t.app.get(DocumentLifecycle);
      const tx = t.app.get(TransactionRunner);
      const id = await dueRecord('mark destroyed too early');
      const [{ storage_key: key }] = await sql<{ storage_key: string }>(t.databaseUrl, `SELECT storage_key FROM document_versions WHERE document_id = $1`, [id]);
      // Pending, but its key not yet erased.
      await tx.run((m) => lifecycle.markPendingDisposition(m, id));
      await expect(tx.run((m) => lifecycle.markDestroyed(m, id, new Date()))).rejects.toThrow(/Data keys remain/);
      // Keys erased, but the object is still in the bucket.
      await tx.run((m) => lifecycle.eraseKeys(m, id));
      await expect(tx.run((m) => lifecycle.markDestroyed(m, id, new Date()))).rejects.toThrow(/Objects remain/);
      expect(await sql(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [id])).toEqual([{ status: 'pending_disposition' }]);
      await store.delete(key);
      const destroyed = await tx.run((m) => lifecycle.markDestroyed(m, id, new Date()));
      expect(destroyed.map((v) => [v.number, v.storageKey, v.hasKey])).toEqual([[1, key, false]]);
      expect(await sql(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [id])).toEqual([{ status: 'destroyed' }]);
    });

    it('erases keys only during a disposition and never moves a document the state machine forbids', async () => {
      const lifecycle = t.app.get(DocumentLifecycle);
      const tx = t.app.get(TransactionRunner);
      const id = await dueRecord('no early erase');
      await expect(tx.run((m) => lifecycle.eraseKeys(m, id))).rejects.toThrow(/only by a disposition/);
      await tx.run((m) => lifecycle.placeHold(m, [id]));
      await expect(tx.run((m) => lifecycle.markPendingDisposition(m, id))).rejects.toThrow(/cannot go from on_hold to pending_disposition/);
      await tx.run((m) => lifecycle.releaseHold(m, [id]));
      expect(await sql(t.databaseUrl, `SELECT status, (SELECT count(*)::int FROM document_versions v WHERE v.document_id = d.id AND v.wrapped_key IS NOT NULL) AS keys FROM documents d WHERE id = $1`, [id])).toEqual([{ status: 'active', keys: 1 }]);
    });
  });
});
