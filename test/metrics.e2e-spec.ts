import request from 'supertest';
import { JsonLogger } from '@kura/common';
import { createWorker } from '../apps/worker/src/worker.factory';
import { startWorkerMetrics } from '../apps/worker/src/metrics-server';
import { Scheduler } from '../apps/worker/src/scheduler';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin } from './support/auth';

jest.setTimeout(120_000);
const TOKEN = 'metrics-token-0123456789abcdef';

/** GET /metrics: Prometheus text, outside /api/v1, behind METRICS_TOKEN. */
describe('/metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a scrape without the token, and is not under /api/v1', async () => {
    expect((await request(t.http).get('/metrics')).status).toBe(401);
    expect((await request(t.http).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789')).status).toBe(401);
    expect((await request(t.http).get('/api/v1/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(404);
  });

  it('exposes request rate and latency by route and status, audit append latency, job runs and storage bytes', async () => {
    const admin = await loginAdmin(t.http);
    const clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['finance'] });
    const up = await request(t.http).post('/api/v1/documents').set('Authorization', `Bearer ${clerk.token}`)
      .field('title', 'metered').field('kind', 'record').field('classification', 'INTERNAL').field('department', 'finance')
      .attach('file', Buffer.alloc(1234, 7), 'm.bin').expect(201);
    await request(t.http).get(`/api/v1/documents/${up.body.id}/content`).set('Authorization', `Bearer ${clerk.token}`).expect(200);
    await request(t.http).get(`/api/v1/documents/${up.body.id}`).set('Authorization', `Bearer ${clerk.token}`).expect(200);
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined), t.clock);
    try {
      await worker.get(Scheduler).runByName('audit.checkpoint');
    } finally {
      await worker.close();
    }

    const res = await request(t.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(text).toMatch(/^kura_http_requests_total\{method="GET",route="\/api\/v1\/documents\/:id",status="200"\} [1-9]/m);
    expect(text).toMatch(/^kura_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/v1\/documents",status="201"\} \d+/m);
    expect(text).toMatch(/^kura_audit_append_duration_seconds_count [1-9]/m);
    // Chain lag, as max(kura_audit_head_seq) - max(kura_audit_checkpoint_seq): the checkpoint covers the head it saw.
    const head = Number(/^kura_audit_head_seq (\d+)/m.exec(text)?.[1]);
    const checkpoint = Number(/^kura_audit_checkpoint_seq (\d+)/m.exec(text)?.[1]);
    expect(checkpoint).toBeGreaterThan(0);
    expect(head).toBeGreaterThanOrEqual(checkpoint);
    expect(text).toMatch(/^kura_job_runs_total\{job="audit.checkpoint",status="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^kura_storage_bytes_total\{direction="in"\} [1-9]/m);
    expect(text).toMatch(/^kura_storage_bytes_total\{direction="out"\} [1-9]/m);
    expect(text).toMatch(/^kura_process_cpu_seconds_total /m);
    // No ids in labels: one series per route template, whatever the document.
    expect(text).not.toContain(up.body.id as string);
  });

  it('the worker, which serves no API, exposes the same series on a port of its own behind the token', async () => {
    const server = await startWorkerMetrics(0, '127.0.0.1', TOKEN);
    try {
      const url = `http://127.0.0.1:${server.port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
      const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^kura_job_runs_total\{job="audit.checkpoint",status="succeeded"\} [1-9]/m);
    } finally {
      await server.close();
    }
  });
});
