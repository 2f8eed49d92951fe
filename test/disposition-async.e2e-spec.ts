import request from 'supertest';
import { JsonLogger } from '@kura/common';
import { DispositionHooks, DispositionRepository, verifyCertificateText } from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import { createWorker } from '../apps/worker/src/worker.factory';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { Barrier } from './support/barrier';
import { FixtureDocument, insertDocument, sql } from './support/retention-context';

const YEAR = 365 * 86_400_000;

/** Issue 13: approve commits the decision and answers; the worker executes the batch. */
describe('disposition executed by the worker', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let a: TestUser;
  let b: TestUser;
  let store: ObjectStore;
  let seriesId: string;
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });
  const quiet = new JsonLogger('error', () => undefined);

  beforeAll(async () => {
    // The api waits at most 1.5 s for the worker (the default is 10 s); the worker polls every 100 ms.
    t = await startTestApp({ env: { DISPOSITION_APPROVE_WAIT_MS: '1500', DISPOSITION_POLL_MS: '100', DISPOSITION_LEASE_SECONDS: '5' } });
    store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    a = await createUser(t.http, admin, { username: 'officer-a', roles: ['records_officer'], clearance: 'SECRET' });
    b = await createUser(t.http, admin, { username: 'officer-b', roles: ['records_officer'], clearance: 'SECRET' });
    const series = await request(t.http)
      .post('/api/v1/retention/series')
      .set(as(a))
      .send({ code: 'ASYNC-7', name: '帳簿', years: 7, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: '法人税法施行規則 第59条' })
      .expect(201);
    seriesId = series.body.id as string;
  });
  afterAll(async () => {
    await t.close();
  });

  async function proposeDue(n: number): Promise<{ batchId: string; docs: FixtureDocument[] }> {
    const docs: FixtureDocument[] = [];
    for (let i = 0; i < n; i++) docs.push(await insertDocument(t.databaseUrl, store, { title: `帳簿 ${i}`, seriesId, createdAt: new Date(t.clock.now().getTime() - 8 * YEAR), versions: 2 }));
    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: docs.map((d) => d.id) }).expect(201);
    return { batchId: proposal.body.id as string, docs };
  }

  async function objectsLeft(docs: FixtureDocument[]): Promise<number> {
    let n = 0;
    for (const d of docs) for (const key of d.objectKeys) if (await store.stat(key)) n++;
    return n;
  }

  it('without a worker, approve answers 202 promptly with the queued batch; the certificate is a 409 until a worker runs it', async () => {
    const { batchId, docs } = await proposeDue(2);
    const started = Date.now();
    const res = await request(t.http).post(`/api/v1/disposition/batches/${batchId}/approve`).set(as(b)).send({}).expect(202);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.headers.location).toBe(`/api/v1/disposition/batches/${batchId}`);
    expect(res.body).toMatchObject({ id: batchId, state: 'executing', approvedBy: 'officer-b', certificate: null, progress: { total: 2, destroyed: 0, remaining: 2, worker: 'waiting' } });
    // The decision is committed and audited; nothing is destroyed yet.
    expect(await sql(t.databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'disposition.approve' AND target_id = $1`, [batchId])).toEqual([{ outcome: 'allowed' }]);
    expect(await objectsLeft(docs)).toBe(4);
    const early = await request(t.http).get(`/api/v1/disposition/batches/${batchId}/certificate`).set(as(b)).expect(409);
    expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(early.body.detail).toMatch(/not finished executing/);
    // Approving again is a conflict, not a second execution.
    await request(t.http).post(`/api/v1/disposition/batches/${batchId}/approve`).set(as(b)).send({}).expect(409);

    // A worker starts later and finishes it.
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: false, dispositions: true });
    try {
      await waitFor(async () => (await request(t.http).get(`/api/v1/disposition/batches/${batchId}`).set(as(b)).expect(200)).body.state === 'completed');
    } finally {
      await worker.close();
    }
    const done = await request(t.http).get(`/api/v1/disposition/batches/${batchId}`).set(as(b)).expect(200);
    expect(done.body).toMatchObject({ state: 'completed', progress: { total: 2, destroyed: 2, remaining: 0 }, certificate: `/api/v1/disposition/batches/${batchId}/certificate` });
    expect(await objectsLeft(docs)).toBe(0);
  });

  it('with the worker held at a barrier, approve answers 202 at once (Prefer: respond-async) and after the bounded wait; released, the worker finishes', async () => {
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: false, dispositions: true });
    try {
      const hooks = worker.get(DispositionHooks);
      const gates = [new Barrier(), new Barrier()];
      let call = 0;
      hooks.beforeItem = () => gates[Math.min(call++, 1)].wait();

      const first = await proposeDue(3);
      const started = Date.now();
      const res = await request(t.http).post(`/api/v1/disposition/batches/${first.batchId}/approve`).set(as(b)).set('Prefer', 'respond-async').send({}).expect(202);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(res.headers['preference-applied']).toBe('respond-async');
      expect(res.headers.location).toBe(`/api/v1/disposition/batches/${first.batchId}`);
      expect(res.body).toMatchObject({ state: 'executing', progress: { total: 3, destroyed: 0 } });

      // The worker took the batch and waits at the barrier before its first record.
      await gates[0].reached;
      const held = await request(t.http).get(`/api/v1/disposition/batches/${first.batchId}`).set(as(b)).expect(200);
      expect(held.body).toMatchObject({ state: 'executing', progress: { total: 3, destroyed: 0, remaining: 3, worker: 'running' } });
      expect(await objectsLeft(first.docs)).toBe(6);
      await request(t.http).get(`/api/v1/disposition/batches/${first.batchId}/certificate`).set(as(b)).expect(409);

      gates[0].open();
      // The second record holds it again: progress shows one destroyed.
      await gates[1].reached;
      await waitFor(async () => (await request(t.http).get(`/api/v1/disposition/batches/${first.batchId}`).set(as(b))).body.progress.destroyed === 1);
      gates[1].open();
      await waitFor(async () => (await request(t.http).get(`/api/v1/disposition/batches/${first.batchId}`).set(as(b))).body.state === 'completed');
      expect(await objectsLeft(first.docs)).toBe(0);
      const cert = await request(t.http).get(`/api/v1/disposition/batches/${first.batchId}/certificate`).set(as(b)).set('Accept', 'application/json').buffer(true)
        .parse((r, cb) => {
          let data = '';
          r.on('data', (c: Buffer) => (data += c.toString('utf8')));
          r.on('end', () => cb(null, data));
        })
        .expect(200);
      const key = await request(t.http).get('/api/v1/keys/public').expect(200);
      expect(verifyCertificateText(cert.body as string, key.body.publicKeyPem, { strict: true })).toMatchObject({ valid: true, records: 3 });
      for (const d of first.docs) {
        expect(await sql(t.databaseUrl, `SELECT actor_name FROM audit_events WHERE action = 'document.destroy' AND target_id = $1`, [d.id])).toEqual([{ actor_name: 'officer-b' }]);
      }

      // Without the Prefer header, the api waits its bounded time for the held worker, then answers 202.
      const gate = new Barrier();
      hooks.beforeItem = () => gate.wait();
      const second = await proposeDue(1);
      const t0 = Date.now();
      const slow = await request(t.http).post(`/api/v1/disposition/batches/${second.batchId}/approve`).set(as(b)).send({}).expect(202);
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(1_400);
      expect(waited).toBeLessThan(5_000);
      expect(slow.body).toMatchObject({ state: 'executing', progress: { total: 1, destroyed: 0, worker: 'running' } });
      gate.open();

      // Not held, the worker finishes within the wait: 200 with the executed batch, as before.
      hooks.beforeItem = () => Promise.resolve();
      const third = await proposeDue(1);
      const fast = await request(t.http).post(`/api/v1/disposition/batches/${third.batchId}/approve`).set(as(b)).send({}).expect(200);
      expect(fast.body).toMatchObject({ state: 'completed', items: [{ state: 'destroyed' }], progress: { total: 1, destroyed: 1, remaining: 0 } });
      await waitFor(async () => (await request(t.http).get(`/api/v1/disposition/batches/${second.batchId}`).set(as(b))).body.state === 'completed');
      expect(await objectsLeft([...second.docs, ...third.docs])).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it('the due list names the open batch each document is in (proposed, then executing); the batch list carries progress; cancelled or done, it is gone', async () => {
    const due = async () => {
      const res = await request(t.http).get('/api/v1/disposition/due?pageSize=100').set(as(a)).expect(200);
      return new Map((res.body.items as Array<{ documentId: string; openBatch: unknown }>).map((i) => [i.documentId, i.openBatch]));
    };
    const summary = async (id: string) => {
      const res = await request(t.http).get('/api/v1/disposition/batches?pageSize=100').set(as(b)).expect(200);
      return (res.body.items as Array<{ id: string; state: string }>).find((x) => x.id === id);
    };
    const free = await insertDocument(t.databaseUrl, store, { title: '帳簿 free', seriesId, createdAt: new Date(t.clock.now().getTime() - 8 * YEAR), versions: 1 });
    const { batchId, docs } = await proposeDue(2);

    // Still due (retention ended, no hold), but already proposed: listed with the batch it waits in.
    let listed = await due();
    for (const d of docs) expect(listed.get(d.id)).toEqual({ id: batchId, state: 'proposed' });
    expect(listed.get(free.id)).toBeNull();
    const twice = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [docs[0].id] }).expect(409);
    expect(twice.body.documents).toEqual([{ documentId: docs[0].id, batchId, state: 'proposed' }]);
    expect(await summary(batchId)).toMatchObject({ state: 'proposed', documents: 2, progress: { total: 2, destroyed: 0, extended: 0, skipped: 0, remaining: 2, worker: null } });

    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: false, dispositions: true });
    const gate = new Barrier();
    try {
      worker.get(DispositionHooks).beforeItem = () => gate.wait();
      await request(t.http).post(`/api/v1/disposition/batches/${batchId}/approve`).set(as(b)).set('Prefer', 'respond-async').send({}).expect(202);
      await gate.reached;
      listed = await due();
      for (const d of docs) expect(listed.get(d.id)).toEqual({ id: batchId, state: 'executing' });
      expect(await summary(batchId)).toMatchObject({ state: 'executing', progress: { total: 2, destroyed: 0, remaining: 2, worker: 'running' } });
      gate.open();
      await waitFor(async () => (await summary(batchId))?.state === 'completed');
    } finally {
      gate.open();
      await worker.close();
    }
    expect(await summary(batchId)).toMatchObject({ progress: { total: 2, destroyed: 2, remaining: 0, worker: null } });
    listed = await due();
    for (const d of docs) expect(listed.has(d.id)).toBe(false);

    // A withdrawn proposal releases its document: due again, in no batch, proposable again.
    const again = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [free.id] }).expect(201);
    expect((await due()).get(free.id)).toEqual({ id: again.body.id, state: 'proposed' });
    await request(t.http).post(`/api/v1/disposition/batches/${again.body.id as string}/cancel`).set(as(b)).expect(200);
    expect((await due()).get(free.id)).toBeNull();
    expect(await summary(again.body.id as string)).toMatchObject({ state: 'cancelled', progress: { total: 1, skipped: 1, remaining: 0, worker: null } });
  });

  it('a worker that shuts down mid-batch hands the lease back at the next record; another worker finishes the batch', async () => {
    const one = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: false, dispositions: true });
    const gate = new Barrier();
    one.get(DispositionHooks).beforeItem = (_batch, _doc, destroyed) => (destroyed === 1 ? gate.wait() : Promise.resolve());
    const { batchId, docs } = await proposeDue(3);
    await request(t.http).post(`/api/v1/disposition/batches/${batchId}/approve`).set(as(b)).set('Prefer', 'respond-async').send({}).expect(202);
    await gate.reached;
    const closing = one.close();
    gate.open();
    await closing;
    // The record in hand was finished; the next was not started; the lease is free for another worker.
    expect(await sql(t.databaseUrl, `SELECT state, lease_owner FROM disposition_batches WHERE id = $1`, [batchId])).toEqual([{ state: 'executing', lease_owner: null }]);
    const stopped = await request(t.http).get(`/api/v1/disposition/batches/${batchId}`).set(as(b)).expect(200);
    expect(stopped.body.progress).toEqual({ total: 3, destroyed: 2, extended: 0, skipped: 0, remaining: 1, worker: 'waiting' });

    const two = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, quiet, t.clock, { schedule: false, dispositions: true });
    try {
      await waitFor(async () => (await request(t.http).get(`/api/v1/disposition/batches/${batchId}`).set(as(b))).body.state === 'completed');
    } finally {
      await two.close();
    }
    expect(await objectsLeft(docs)).toBe(0);
    for (const d of docs) expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE action = 'document.destroy' AND target_id = $1`, [d.id])).toEqual([{ n: 1 }]);
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM disposition_certificates WHERE batch_id = $1`, [batchId])).toEqual([{ n: 1 }]);
  });

  it('of several workers asking at once, one takes the lease; only its holder renews it; an expired lease is taken over', async () => {
    const { batchId } = await proposeDue(1);
    await request(t.http).post(`/api/v1/disposition/batches/${batchId}/approve`).set(as(b)).set('Prefer', 'respond-async').send({}).expect(202);
    const repo = t.app.get(DispositionRepository);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.claimNext(`worker-${i}`, 30)));
    expect(claims.filter((c) => c === batchId)).toHaveLength(1);
    expect(claims.filter((c) => c !== null)).toEqual([batchId]);
    const winner = `worker-${claims.indexOf(batchId)}`;
    expect(await repo.renewLease(batchId, 'worker-x', 30)).toBe(false);
    expect(await repo.renewLease(batchId, winner, 30)).toBe(true);
    expect(await repo.claimNext('worker-late', 30)).toBeNull();
    // The holder dies: once its lease has expired, the next asker takes the batch, and the dead holder cannot renew.
    await sql(t.databaseUrl, `UPDATE disposition_batches SET lease_until = clock_timestamp() - interval '1 second' WHERE id = $1`, [batchId]);
    expect(await repo.claimNext('worker-late', 30)).toBe(batchId);
    expect(await repo.renewLease(batchId, winner, 30)).toBe(false);
    await repo.releaseLease(batchId, 'worker-late');
    expect(await sql(t.databaseUrl, `SELECT lease_owner, lease_until FROM disposition_batches WHERE id = $1`, [batchId])).toEqual([{ lease_owner: null, lease_until: null }]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
