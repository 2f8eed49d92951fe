import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AuditService } from '@kura/audit';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { FixtureDocument, insertDocument, sql } from './support/retention-context';

const DAY = 86_400_000;

/**
 * One access decision for the retention views (issue 9, finding 3 and 7): holds, batches,
 * the due list, retention events and certificates show a document the reader may not see as
 * a count at most, audit every hidden-id probe, and check every covered document before a
 * hold is released or a batch cancelled. Auditors read series, holds and certificates.
 */
describe('retention views through the one access decision', () => {
  jest.setTimeout(120_000);
  let t: TestApp;
  let store: ObjectStore;
  /** records officers, SECRET, no My Number designation */
  let officerA: TestUser;
  let officerB: TestUser;
  /** records officers, SECRET, My Number handlers of hr (where the fixtures live) */
  let handlerA: TestUser;
  let handlerB: TestUser;
  /** a records officer cleared to INTERNAL only */
  let officerInternal: TestUser;
  let auditor: TestUser;
  let seriesId: string;
  const as = (u: TestUser, requestId = `ra-${randomUUID()}`) => ({ Authorization: `Bearer ${u.token}`, 'X-Request-Id': requestId });

  async function outcomes(clientRequestId: string): Promise<Array<{ action: string; outcome: string; target_id: string | null; details: Record<string, unknown> }>> {
    // The audit records the server's request id; the access log line pairs it with the client's.
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request' && l.clientRequestId === clientRequestId);
    return sql(t.databaseUrl, 'SELECT action, outcome, target_id, details FROM audit_events WHERE request_id = $1 ORDER BY seq', [line?.requestId ?? clientRequestId]);
  }

  /** A document whose retention ended ten days ago (series: 1 day after creation). */
  function dueDocument(title: string, o: { classification?: number; personalData?: string } = {}): Promise<FixtureDocument> {
    return insertDocument(t.databaseUrl, store, { title, seriesId, createdAt: new Date(t.clock.now().getTime() - 20 * DAY), ...o });
  }

  beforeAll(async () => {
    t = await startTestApp({ worker: true });
    store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    officerA = await createUser(t.http, admin, { username: 'officer-a', roles: ['records_officer'], clearance: 'SECRET', departments: ['records'] });
    officerB = await createUser(t.http, admin, { username: 'officer-b', roles: ['records_officer'], clearance: 'SECRET', departments: ['records'] });
    handlerA = await createUser(t.http, admin, { username: 'handler-a', roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    handlerB = await createUser(t.http, admin, { username: 'handler-b', roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    officerInternal = await createUser(t.http, admin, { username: 'officer-internal', roles: ['records_officer'], clearance: 'INTERNAL', departments: ['records'] });
    auditor = await createUser(t.http, admin, { username: 'auditor', roles: ['auditor'], clearance: 'SECRET', departments: [] });
    const series = await request(t.http).post('/api/v1/retention/series').set(as(officerA))
      .send({ code: 'RA-1D', name: 'one day', years: 0, months: 0, days: 1, trigger: 'created', disposition: 'destroy', citation: 'test' }).expect(201);
    seriesId = series.body.id as string;
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /holds shows a `specific` document to a non-handler officer as a count, never its id', async () => {
    const specific = await dueDocument('マイナンバー台帳', { personalData: 'specific' });
    const plain = await dueDocument('plain roster');
    const hold = await request(t.http).post('/api/v1/holds').set(as(handlerA)).send({ name: 'Case 1', reason: 'audit', documentIds: [specific.id, plain.id] }).expect(201);
    expect(hold.body.documentIds.sort()).toEqual([specific.id, plain.id].sort());

    const seen = await request(t.http).get('/api/v1/holds').set(as(officerA)).expect(200);
    expect(JSON.stringify(seen.body)).not.toContain(specific.id);
    expect(seen.body.items.find((h: { id: string }) => h.id === hold.body.id)).toMatchObject({ documentIds: [plain.id], withheldDocuments: 1 });
    // The handler sees both.
    const full = await request(t.http).get('/api/v1/holds').set(as(handlerB)).expect(200);
    expect(full.body.items.find((h: { id: string }) => h.id === hold.body.id)).toMatchObject({ withheldDocuments: 0 });
  });

  it('GET /disposition/batches/:id and GET /disposition/batches show a `specific` item to a non-handler as a count', async () => {
    const specific = await dueDocument('扶養控除申告書', { personalData: 'specific' });
    const plain = await dueDocument('plain ledger');
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(handlerA)).send({ documentIds: [specific.id, plain.id] }).expect(201);

    const seen = await request(t.http).get(`/api/v1/disposition/batches/${proposal.body.id}`).set(as(officerA)).expect(200);
    expect(JSON.stringify(seen.body)).not.toContain(specific.id);
    expect(seen.body).toMatchObject({ items: [expect.objectContaining({ documentId: plain.id })], withheldItems: 1 });

    const list = await request(t.http).get('/api/v1/disposition/batches?pageSize=100').set(as(officerA)).expect(200);
    expect(list.body).toMatchObject({ page: 1, pageSize: 100, total: expect.any(Number) });
    expect(JSON.stringify(list.body)).not.toContain(specific.id);
    expect(list.body.items.find((b: { id: string }) => b.id === proposal.body.id)).toMatchObject({ state: 'proposed', documents: 2 });
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(handlerB)).expect(200);
  });

  it('GET /disposition/batches lists batches newest first, paged, with a total', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await dueDocument(`listed ${i}`);
      ids.push((await request(t.http).post('/api/v1/disposition/batches').set(as(officerA)).send({ documentIds: [d.id] }).expect(201)).body.id as string);
    }
    const first = await request(t.http).get('/api/v1/disposition/batches?page=1&pageSize=2').set(as(officerB)).expect(200);
    expect(first.body.items.map((b: { id: string }) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.total).toBeGreaterThanOrEqual(3);
    const second = await request(t.http).get('/api/v1/disposition/batches?page=2&pageSize=2').set(as(officerB)).expect(200);
    expect(second.body.items[0].id).toBe(ids[0]);
    await request(t.http).get('/api/v1/disposition/batches?pageSize=0').set(as(officerB)).expect(400);
    for (const id of ids) await request(t.http).post(`/api/v1/disposition/batches/${id}/cancel`).set(as(officerA)).expect(200);
  });

  it('a certificate shows records its reader may not see as a count, and auditors may read it', async () => {
    const specific = await dueDocument('個人番号関係書類', { personalData: 'specific' });
    const plain = await dueDocument('expired contract');
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(handlerA)).send({ documentIds: [specific.id, plain.id] }).expect(201);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(handlerB)).send({}).expect(200);
    const url = `/api/v1/disposition/batches/${proposal.body.id}/certificate`;

    const full = await request(t.http).get(url).set(as(handlerB)).expect(200);
    expect(full.body.certificate.records.map((r: { recordId: string }) => r.recordId).sort()).toEqual([specific.id, plain.id].sort());
    expect(full.body.redaction).toBeUndefined();

    for (const reader of [officerA, auditor]) {
      const requestId = `ra-${randomUUID()}`;
      const res = await request(t.http).get(url).set(as(reader, requestId)).expect(200);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(specific.id);
      expect(res.body.certificate.records.map((r: { recordId: string }) => r.recordId)).toEqual([plain.id]);
      expect(res.body.redaction).toMatchObject({ withheldRecords: 1 });
      expect(await outcomes(requestId)).toEqual([expect.objectContaining({ action: 'disposition.certificate.read', outcome: 'allowed' })]);
    }
    // The tombstone of the destroyed `specific` record stays invisible to them.
    await request(t.http).get(`/api/v1/documents/${specific.id}`).set(as(auditor)).expect(404);
  });

  it.each([
    ['POST /holds', 'post', '/api/v1/holds', (id: string) => ({ name: 'probe', reason: 'probe', documentIds: [id] })],
    ['POST /retention/events', 'post', '/api/v1/retention/events', (id: string) => ({ event: 'employment-ended', occurredAt: '2020-01-01T00:00:00Z', documentIds: [id] })],
    ['POST /disposition/batches', 'post', '/api/v1/disposition/batches', (id: string) => ({ documentIds: [id] })],
  ] as const)('%s answers 404 for a hidden `specific` id exactly as for a missing one, and audits the probe', async (_name, _method, url, body) => {
    const specific = await dueDocument('probe target', { personalData: 'specific' });
    const missing = randomUUID();
    const hiddenId = `ra-${randomUUID()}`;
    const missingId = `ra-${randomUUID()}`;
    const hidden = await request(t.http).post(url).set(as(officerA, hiddenId)).send(body(specific.id)).expect(404);
    const absent = await request(t.http).post(url).set(as(officerA, missingId)).send(body(missing)).expect(404);
    expect({ ...hidden.body, instance: undefined, requestId: undefined, documentIds: undefined }).toEqual({ ...absent.body, instance: undefined, requestId: undefined, documentIds: undefined });
    expect(await outcomes(hiddenId)).toEqual([expect.objectContaining({ outcome: 'denied', target_id: specific.id })]);
    expect(await outcomes(missingId)).toEqual([expect.objectContaining({ outcome: 'failed', target_id: missing })]);
    // Nothing was written for either.
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM legal_hold_documents WHERE document_id = $1`, [specific.id])).toEqual([{ n: 0 }]);
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM retention_events WHERE document_id = $1`, [specific.id])).toEqual([{ n: 0 }]);
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM disposition_items WHERE document_id = $1`, [specific.id])).toEqual([{ n: 0 }]);
  });

  it('an INTERNAL officer may not release a hold over SECRET records, nor cancel a batch of them', async () => {
    const secret = await dueDocument('board minutes', { classification: 3 });
    const hold = await request(t.http).post('/api/v1/holds').set(as(officerB)).send({ name: 'Secret case', reason: 'litigation', documentIds: [secret.id] }).expect(201);
    const releaseId = `ra-${randomUUID()}`;
    const refused = await request(t.http).post(`/api/v1/holds/${hold.body.id}/release`).set(as(officerInternal, releaseId)).expect(403);
    expect(JSON.stringify(refused.body)).not.toContain(secret.id);
    expect(await sql(t.databaseUrl, `SELECT released_at FROM legal_holds WHERE id = $1`, [hold.body.id])).toEqual([{ released_at: null }]);
    expect(await sql(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [secret.id])).toEqual([{ status: 'on_hold' }]);
    expect((await outcomes(releaseId)).map((e) => e.outcome)).toEqual(['denied']);
    // And it does not see the record in the hold either.
    const view = await request(t.http).get('/api/v1/holds').set(as(officerInternal)).expect(200);
    expect(view.body.items.find((h: { id: string }) => h.id === hold.body.id)).toMatchObject({ documentIds: [], withheldDocuments: 1 });
    await request(t.http).post(`/api/v1/holds/${hold.body.id}/release`).set(as(officerA)).expect(200);

    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(officerB)).send({ documentIds: [secret.id] }).expect(201);
    const cancelId = `ra-${randomUUID()}`;
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(officerInternal, cancelId)).expect(403);
    expect(await sql(t.databaseUrl, `SELECT state FROM disposition_batches WHERE id = $1`, [proposal.body.id])).toEqual([{ state: 'proposed' }]);
    expect((await outcomes(cancelId)).map((e) => e.outcome)).toEqual(['denied']);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(officerA)).expect(200);
  });

  it('auditors read series, holds and batches (redacted), never the due list or any change', async () => {
    expect((await request(t.http).get('/api/v1/retention/series').set(as(auditor)).expect(200)).body.items).toContainEqual(expect.objectContaining({ code: 'RA-1D' }));
    const holds = await request(t.http).get('/api/v1/holds').set(as(auditor)).expect(200);
    expect(holds.body.items.length).toBeGreaterThan(0);
    await request(t.http).get('/api/v1/disposition/batches').set(as(auditor)).expect(200);
    await request(t.http).get('/api/v1/disposition/due').set(as(auditor)).expect(403);
    await request(t.http).post('/api/v1/holds').set(as(auditor)).send({ name: 'x', reason: 'y', documentIds: [randomUUID()] }).expect(403);
    await request(t.http).post(`/api/v1/holds/${holds.body.items[0].id}/release`).set(as(auditor)).expect(403);
  });

  it.each([
    ['GET /holds', '/api/v1/holds', 'hold.list'],
    ['GET /retention/series', '/api/v1/retention/series', 'retention.series.list'],
    ['GET /disposition/due', '/api/v1/disposition/due', 'disposition.due.list'],
    ['GET /disposition/batches', '/api/v1/disposition/batches', 'disposition.batch.list'],
  ] as const)('%s is an audited read', async (_name, url, action) => {
    const requestId = `ra-${randomUUID()}`;
    await request(t.http).get(url).set(as(officerA, requestId)).expect(200);
    expect(await outcomes(requestId)).toEqual([expect.objectContaining({ action, outcome: 'allowed' })]);
  });

  it('GET /disposition/batches/:id is an audited read; an unknown batch is audited too', async () => {
    const d = await dueDocument('audited batch');
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(officerA)).send({ documentIds: [d.id] }).expect(201);
    const requestId = `ra-${randomUUID()}`;
    await request(t.http).get(`/api/v1/disposition/batches/${proposal.body.id}`).set(as(officerB, requestId)).expect(200);
    expect(await outcomes(requestId)).toEqual([expect.objectContaining({ action: 'disposition.batch.read', outcome: 'allowed', target_id: proposal.body.id })]);
    const missingId = `ra-${randomUUID()}`;
    await request(t.http).get(`/api/v1/disposition/batches/${randomUUID()}`).set(as(officerB, missingId)).expect(404);
    expect(await outcomes(missingId)).toEqual([expect.objectContaining({ action: 'disposition.batch.read', outcome: 'failed' })]);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(officerA)).expect(200);
  });

  it('the due list is filtered and paged in SQL: hidden documents are neither listed nor counted', async () => {
    const specific = await dueDocument('due specific', { personalData: 'specific' });
    const secret = await dueDocument('due secret', { classification: 3 });
    const all = await request(t.http).get('/api/v1/disposition/due?pageSize=500').set(as(handlerA)).expect(200);
    const ids = (b: { items: Array<{ documentId: string }> }) => b.items.map((i) => i.documentId);
    expect(ids(all.body)).toEqual(expect.arrayContaining([specific.id, secret.id]));
    expect(all.body.total).toBe(all.body.items.length);

    const internal = await request(t.http).get('/api/v1/disposition/due?pageSize=500').set(as(officerInternal)).expect(200);
    expect(ids(internal.body)).not.toContain(secret.id);
    expect(ids(internal.body)).not.toContain(specific.id);
    const officer = await request(t.http).get('/api/v1/disposition/due?pageSize=500').set(as(officerA)).expect(200);
    expect(ids(officer.body)).toContain(secret.id);
    expect(ids(officer.body)).not.toContain(specific.id);
    expect(officer.body.total).toBe(all.body.total - all.body.items.filter((i: { personalData: string }) => i.personalData === 'specific').length);

    const page1 = await request(t.http).get('/api/v1/disposition/due?page=1&pageSize=1').set(as(officerA)).expect(200);
    const page2 = await request(t.http).get('/api/v1/disposition/due?page=2&pageSize=1').set(as(officerA)).expect(200);
    expect(page1.body).toMatchObject({ page: 1, pageSize: 1, total: officer.body.total });
    expect(page1.body.items).toHaveLength(1);
    expect(page2.body.items[0].documentId).not.toBe(page1.body.items[0].documentId);
    expect([page1.body.items[0].documentId, page2.body.items[0].documentId]).toEqual(ids(officer.body).slice(0, 2));
    await request(t.http).get('/api/v1/disposition/due?pageSize=100000').set(as(officerA)).expect(400);
  });

  it('access history is paged newest first with a total (not the oldest 1,000)', async () => {
    const d = await dueDocument('busy record');
    const audit = t.app.get(AuditService);
    for (let i = 0; i < 1005; i++) {
      await audit.record({ actor: { id: officerA.id, username: 'officer-a' }, action: 'document.read', targetType: 'Document', targetId: d.id, outcome: 'allowed', details: { n: i } });
    }
    const res = await request(t.http).get(`/api/v1/documents/${d.id}/access-history?pageSize=10`).set(as(officerB)).expect(200);
    expect(res.body).toMatchObject({ page: 1, pageSize: 10, total: 1005 });
    expect(res.body.items.map((e: { details: { n: number } }) => e.details.n)).toEqual([1004, 1003, 1002, 1001, 1000, 999, 998, 997, 996, 995]);
    const last = await request(t.http).get(`/api/v1/documents/${d.id}/access-history?page=101&pageSize=10`).set(as(officerB)).expect(200);
    // The first read is itself in the history now (newest): the oldest event is last.
    expect(last.body.total).toBe(1006);
    expect(last.body.items.map((e: { details: { n?: number } }) => e.details.n)).toEqual([5, 4, 3, 2, 1, 0]);
    await request(t.http).get(`/api/v1/documents/${d.id}/access-history?pageSize=0`).set(as(officerB)).expect(400);
  });

  it('an auditor reads the access history of a `specific` document: ids, dates, actors, outcomes, never the title', async () => {
    const title = 'マイナンバー 山田太郎';
    const d = await dueDocument(title, { personalData: 'specific' });
    // Without X-Purpose the handler's read is refused (400) and audited: history either way.
    await request(t.http).get(`/api/v1/documents/${d.id}`).set(as(handlerA)).expect(400);
    const probeId = `ra-${randomUUID()}`;
    await request(t.http).get(`/api/v1/documents/${d.id}/access-history`).set(as(officerA, probeId)).expect(404);
    expect((await outcomes(probeId)).map((e) => e.outcome)).toEqual(['denied']);

    const requestId = `ra-${randomUUID()}`;
    const res = await request(t.http).get(`/api/v1/documents/${d.id}/access-history`).set(as(auditor, requestId)).expect(200);
    expect(JSON.stringify(res.body)).not.toContain(title);
    expect(res.body.document).toMatchObject({ id: d.id, personalData: 'specific', titleSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(res.body.document.title).toBeUndefined();
    expect(res.body.items[0]).toMatchObject({ action: 'document.history', actorName: 'officer-a', outcome: 'denied' });
    expect(res.body.items).toContainEqual(expect.objectContaining({ action: 'document.read', actorName: 'handler-a', outcome: 'denied', at: expect.any(String) }));
    expect(await outcomes(requestId)).toEqual([expect.objectContaining({ action: 'document.history', outcome: 'allowed', target_id: d.id })]);
    // Still no metadata or content for the auditor.
    await request(t.http).get(`/api/v1/documents/${d.id}`).set(as(auditor)).expect(404);
  });
});
