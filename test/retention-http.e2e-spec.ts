import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client as MinioClient } from 'minio';
import request from 'supertest';
import { JsonLogger } from '@kura/common';
import { verifyCertificateText } from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import { RetentionJobs } from '../apps/worker/src/jobs/retention.jobs';
import { Scheduler } from '../apps/worker/src/scheduler';
import { createWorker } from '../apps/worker/src/worker.factory';
import { startTestApp, TestApp } from './support/app';
import { createUser, login, loginAdmin, TestUser } from './support/auth';
import { insertDocument, sql } from './support/retention-context';

const run = promisify(execFile);
const DAY = 86_400_000;

/** The retention HTTP contract (SPEC §5) with real sessions, PostgreSQL and S3. */
describe('retention HTTP API', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let a: TestUser;
  let b: TestUser;
  let staff: TestUser;
  let store: ObjectStore;
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

  beforeAll(async () => {
    t = await startTestApp({ worker: true });
    store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    a = await createUser(t.http, admin, { username: 'officer-a', roles: ['records_officer'], clearance: 'SECRET' });
    b = await createUser(t.http, admin, { username: 'officer-b', roles: ['records_officer'], clearance: 'SECRET' });
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const seriesBody = { code: 'HR-ROSTER-7', name: '労働者名簿', years: 7, months: 0, days: 0, trigger: 'event:employment-ended', disposition: 'destroy', citation: '労働基準法 第109条' };

  it('creates and lists series; validates every field; only records officers may', async () => {
    const res = await request(t.http).post('/api/v1/retention/series').set(as(a)).send(seriesBody).expect(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), ...seriesBody });
    const dup = await request(t.http).post('/api/v1/retention/series').set(as(b)).send(seriesBody).expect(409);
    expect(dup.headers['content-type']).toMatch(/^application\/problem\+json/);

    const bad = await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'X-1', trigger: 'event:Employment Ended', disposition: 'shred', years: -1 }).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['disposition', 'trigger', 'years']);
    await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'X-2', extra: 1 }).expect(400);
    await request(t.http).post('/api/v1/retention/series').set(as(staff)).send({ ...seriesBody, code: 'X-3' }).expect(403);
    await request(t.http).post('/api/v1/retention/series').send({ ...seriesBody, code: 'X-4' }).expect(401);
    expect(await sql(t.databaseUrl, `SELECT code FROM record_series WHERE code LIKE 'X-%'`)).toEqual([]);

    const list = await request(t.http).get('/api/v1/retention/series').set(as(b)).expect(200);
    expect(list.body.items).toContainEqual(expect.objectContaining({ code: 'HR-ROSTER-7', retention: '7 years' }));
    expect(await sql(t.databaseUrl, `SELECT actor_name, outcome FROM audit_events WHERE action = 'retention.series.create' AND target_id = $1`, [res.body.id])).toEqual([{ actor_name: 'officer-a', outcome: 'allowed' }]);
  });

  it('updates a series with the create rules, every field optional, the code never', async () => {
    const res = await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'PATCH-1' }).expect(201);
    const url = `/api/v1/retention/series/${res.body.id}`;
    const bad = await request(t.http).patch(url).set(as(a)).send({ years: -1, disposition: 'shred', name: '' }).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['disposition', 'name', 'years']);
    await request(t.http).patch(url).set(as(a)).send({ code: 'PATCH-2' }).expect(400);
    expect(await sql(t.databaseUrl, `SELECT code, years, name FROM record_series WHERE id = $1`, [res.body.id])).toEqual([{ code: 'PATCH-1', years: seriesBody.years, name: seriesBody.name }]);
    const ok = await request(t.http).patch(url).set(as(a)).send({ citation: '労働基準法 第109条（改正後）' }).expect(200);
    expect(ok.body).toMatchObject({ code: 'PATCH-1', citation: '労働基準法 第109条（改正後）', years: seriesBody.years });
  });

  it('runs the story over HTTP: event, clock +7y+1d, due, holds, proposal, four-eyes, destruction, certificate', async () => {
    const seriesId = (await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'HR-STORY-7' }).expect(201)).body.id as string;
    const doc = await insertDocument(t.databaseUrl, store, { title: '労働者名簿 2026', seriesId, createdAt: t.clock.now(), versions: 2 });

    const ev = await request(t.http).post('/api/v1/retention/events').set(as(a)).send({ event: 'employment-ended', occurredAt: t.clock.now().toISOString(), documentIds: [doc.id] }).expect(201);
    expect(ev.body.items).toEqual([{ documentId: doc.id, event: 'employment-ended', occurredAt: expect.any(String), dispositionDate: expect.any(String) }]);
    await request(t.http).post('/api/v1/retention/events').set(as(a)).send({ event: 'employment-ended', occurredAt: new Date(Date.now() + 10 * DAY).toISOString(), documentIds: [doc.id] }).expect(400);
    await request(t.http).post('/api/v1/retention/events').set(as(a)).send({ event: 'employment-ended', occurredAt: t.clock.now().toISOString(), documentIds: ['5b0c8f0e-9a3e-4d5f-8a1b-2c3d4e5f6a7b'] }).expect(404);

    const mine = (body: { items: Array<{ documentId: string }> }) => body.items.filter((i) => i.documentId === doc.id);
    expect(mine((await request(t.http).get('/api/v1/disposition/due').set(as(a)).expect(200)).body)).toEqual([]);
    t.clock.advance((7 * 365 + 2 + 1) * DAY);
    // Sessions do not survive seven years.
    await request(t.http).get('/api/v1/disposition/due').set(as(a)).expect(401);
    for (const u of [a, b, staff]) u.token = await login(t.http, u.username, u.password);
    const due = await request(t.http).get('/api/v1/disposition/due').set(as(a)).expect(200);
    expect(mine(due.body)).toEqual([expect.objectContaining({ documentId: doc.id, seriesCode: 'HR-STORY-7', reason: expect.stringContaining('employment-ended') })]);
    await request(t.http).get('/api/v1/disposition/due').set(as(staff)).expect(403);

    const hold = await request(t.http).post('/api/v1/holds').set(as(a)).send({ name: 'Tribunal 2033', reason: 'labour dispute', documentIds: [doc.id] }).expect(201);
    expect(hold.body).toMatchObject({ name: 'Tribunal 2033', active: true, documentIds: [doc.id], createdBy: 'officer-a' });
    expect((await request(t.http).get('/api/v1/holds').set(as(b)).expect(200)).body.items).toEqual([expect.objectContaining({ id: hold.body.id, active: true })]);
    expect(mine((await request(t.http).get('/api/v1/disposition/due').set(as(a)).expect(200)).body)).toEqual([]);
    const blocked = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [doc.id] }).expect(409);
    expect(blocked.body).toMatchObject({ status: 409, documentIds: [doc.id] });
    await request(t.http).patch(`/api/v1/retention/series/${seriesId}`).set(as(a)).send({ years: 1 }).expect(409);
    await request(t.http).post(`/api/v1/holds/${hold.body.id}/release`).set(as(b)).expect(200);
    await request(t.http).post(`/api/v1/holds/${hold.body.id}/release`).set(as(b)).expect(409);
    await request(t.http).post(`/api/v1/holds/not-a-uuid/release`).set(as(b)).expect(400);

    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [doc.id] }).expect(201);
    expect(proposal.body).toMatchObject({ state: 'proposed', dryRun: true, totals: { documents: 1, versions: 2, objects: 2, dataKeys: 2 } });
    expect(proposal.body.plan[0].versions.map((v: { objectKey: string }) => v.objectKey)).toEqual(doc.objectKeys);

    const self = await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(a)).send({}).expect(403);
    expect(self.body.detail).toMatch(/second records officer/);
    for (const key of doc.objectKeys) expect(await store.stat(key)).not.toBeNull();
    expect(await sql(t.databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'disposition.approve'`)).toEqual([{ outcome: 'denied' }]);

    const approved = await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(b)).send({}).expect(200);
    expect(approved.body).toMatchObject({ state: 'completed', approvedBy: 'officer-b', items: [{ documentId: doc.id, state: 'destroyed' }] });
    // A raw S3 client, not the service's store, looks for the objects.
    const raw = new MinioClient({ endPoint: t.s3.endPoint, port: t.s3.port, useSSL: t.s3.useSSL, accessKey: t.s3.accessKey, secretKey: t.s3.secretKey, region: t.s3.region });
    const left: string[] = [];
    for await (const o of raw.listObjects(t.s3.bucket, '', true) as AsyncIterable<{ name?: string }>) if (o.name) left.push(o.name);
    for (const key of doc.objectKeys) expect(left).not.toContain(key);
    await expect(raw.statObject(t.s3.bucket, doc.objectKeys[0])).rejects.toMatchObject({ code: expect.stringMatching(/NotFound|NoSuchKey/) });
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM document_versions WHERE wrapped_key IS NOT NULL`)).toEqual([{ n: 0 }]);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(b)).send({}).expect(409);

    const key = await request(t.http).get('/api/v1/keys/public').expect(200);
    expect(key.body).toMatchObject({ algorithm: 'Ed25519', keyId: expect.any(String) });
    const url = `/api/v1/disposition/batches/${proposal.body.id}/certificate`;
    const json = await request(t.http).get(url).set(as(b)).set('Accept', 'application/json').buffer(true).parse((res, cb) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString('utf8')));
      res.on('end', () => cb(null, data));
    }).expect(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const text = json.body as string;
    expect(verifyCertificateText(text, key.body.publicKeyPem, { strict: true })).toMatchObject({ valid: true, keyId: key.body.keyId, records: 1 });
    expect(verifyCertificateText(text.replace('officer-b', 'officer-c'), key.body.publicKeyPem)).toMatchObject({ valid: false });
    expect(JSON.parse(text).certificate).toMatchObject({ proposer: { name: 'officer-a' }, approver: { name: 'officer-b' }, sanitization: { methodType: 'Purge' } });

    const pdf = await request(t.http).get(url).set(as(b)).set('Accept', 'application/pdf').buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-http-cert-'));
    await writeFile(path.join(dir, 'c.pdf'), pdf.body as Buffer);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', path.join(dir, 'c.pdf'), '-']);
    expect(stdout).toContain(doc.id);
    expect(stdout).toContain('消去証明書');
    await run('pdftoppm', ['-r', '30', '-png', '-f', '1', '-l', '1', path.join(dir, 'c.pdf'), path.join(dir, 'p')]);
    await rm(dir, { recursive: true, force: true });

    const notAcceptable = await request(t.http).get(url).set(as(b)).set('Accept', 'text/html').expect(406);
    expect(notAcceptable.headers['content-type']).toMatch(/^application\/problem\+json/);
    for (const [accept, type] of [
      ['*/*', /^application\/json/],
      ['application/pdf;q=0.5, application/json', /^application\/json/],
      ['text/html, application/*;q=0.2', /^application\/json/],
    ] as const) {
      expect((await request(t.http).get(url).set(as(b)).set('Accept', accept).expect(200)).headers['content-type']).toMatch(type);
    }
    const noAccept = await request(t.http).get(url).set(as(b)).unset('Accept').expect(200);
    expect(noAccept.headers['content-type']).toMatch(/^application\/json/);
    await request(t.http).get(url).set(as(staff)).expect(403);
  });

  it('answers bad input with problem+json 4xx and writes nothing', async () => {
    const missing = '5b0c8f0e-9a3e-4d5f-8a1b-2c3d4e5f6a7b';
    const count = async () => (await sql<{ n: number }>(t.databaseUrl, `SELECT (SELECT count(*) FROM legal_holds) + (SELECT count(*) FROM disposition_batches) + (SELECT count(*) FROM retention_events) AS n`))[0].n;
    const before = await count();
    const auditBefore = (await sql<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE outcome = 'allowed' AND action ~ '^(hold|disposition|retention)\\.'`))[0].n;

    const cases: Array<[string, string, object, number]> = [
      ['post', '/api/v1/holds', { name: 'h', reason: 'r', documentIds: [missing] }, 404],
      ['post', '/api/v1/holds', { name: 'h', reason: 'r', documentIds: [] }, 400],
      ['post', '/api/v1/holds', { name: 'h', reason: 'r', documentIds: ['nope'] }, 400],
      ['post', '/api/v1/holds', { name: '', reason: 'r', documentIds: [missing] }, 400],
      ['post', `/api/v1/holds/${missing}/release`, {}, 404],
      ['post', '/api/v1/retention/events', { event: 'Employment Ended', occurredAt: '2020-01-01T00:00:00Z', documentIds: [missing] }, 400],
      ['post', '/api/v1/retention/events', { event: 'employment-ended', occurredAt: 'yesterday', documentIds: [missing] }, 400],
      ['post', '/api/v1/disposition/batches', { documentIds: [] }, 400],
      ['post', '/api/v1/disposition/batches', { documentIds: [missing, missing] }, 400],
      ['post', '/api/v1/disposition/batches', { documentIds: [missing] }, 404],
      ['post', `/api/v1/disposition/batches/${missing}/approve`, {}, 404],
      ['post', `/api/v1/disposition/batches/${missing}/approve`, { decisions: [{ documentId: missing, decision: 'burn' }] }, 400],
      ['get', `/api/v1/disposition/batches/${missing}/certificate`, {}, 404],
      ['get', `/api/v1/disposition/batches/not-a-uuid/certificate`, {}, 400],
      ['patch', `/api/v1/retention/series/${missing}`, { years: 1 }, 404],
      ['patch', `/api/v1/retention/series/${missing}`, { code: 'NEW' }, 400],
    ];
    for (const [method, url, body, status] of cases) {
      const req = method === 'get' ? request(t.http).get(url) : method === 'patch' ? request(t.http).patch(url).send(body) : request(t.http).post(url).send(body);
      const res = await req.set(as(a));
      expect({ method, url, body, status: res.status }).toEqual({ method, url, body, status });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT/);
    }
    expect(await count()).toBe(before);
    expect((await sql<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE outcome = 'allowed' AND action ~ '^(hold|disposition|retention)\\.'`))[0].n).toBe(auditBefore);
  });

  it('a certificate is not available before the batch has executed', async () => {
    const seriesId = (await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'EARLY-1', years: 1, trigger: 'created' }).expect(201)).body.id as string;
    const doc = await insertDocument(t.databaseUrl, store, { title: 'early', seriesId, createdAt: new Date(t.clock.now().getTime() - 2 * 365 * DAY) });
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [doc.id] }).expect(201);
    // The batch exists, its execution has not finished: a state conflict (409), not an absence.
    const res = await request(t.http).get(`/api/v1/disposition/batches/${proposal.body.id}/certificate`).set(as(a)).expect(409);
    expect(res.body).toMatchObject({ type: 'urn:kura:problem:conflict', state: 'proposed', detail: expect.stringMatching(/not been approved/) });
    // A second proposal of the same document is refused while the first is open.
    await request(t.http).post('/api/v1/disposition/batches').set(as(b)).send({ documentIds: [doc.id] }).expect(409);
    expect((await request(t.http).get(`/api/v1/disposition/batches/${proposal.body.id}`).set(as(b)).expect(200)).body).toMatchObject({ state: 'proposed', certificate: null });
    // Withdrawn, the document can be proposed again; a cancelled batch cannot be approved.
    expect((await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(b)).expect(200)).body).toMatchObject({ state: 'cancelled', items: [{ state: 'skipped' }] });
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(b)).send({}).expect(409);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/cancel`).set(as(b)).expect(409);
    await request(t.http).post('/api/v1/disposition/batches').set(as(b)).send({ documentIds: [doc.id] }).expect(201);
    expect(await store.stat(doc.objectKeys[0])).not.toBeNull();
  });

  it('the worker registers the due sweep and fixity; the sweep audits retention.due', async () => {
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined), t.clock);
    try {
      const scheduler = worker.get(Scheduler);
      expect(scheduler.jobNames).toEqual(expect.arrayContaining(['retention.sweep', 'fixity']));
      const seriesId = (await request(t.http).post('/api/v1/retention/series').set(as(a)).send({ ...seriesBody, code: 'SWEEP-7', trigger: 'created' }).expect(201)).body.id as string;
      const doc = await insertDocument(t.databaseUrl, store, { title: 'old roster', seriesId, createdAt: new Date(t.clock.now().getTime() - 8 * 365 * DAY) });
      await scheduler.runNow(worker.get(RetentionJobs).sweep);
      expect(await sql(t.databaseUrl, `SELECT actor_name, outcome FROM audit_events WHERE action = 'retention.due' AND target_id = $1`, [doc.id])).toEqual([{ actor_name: 'system', outcome: 'allowed' }]);
    } finally {
      await worker.close();
    }
  });
});
