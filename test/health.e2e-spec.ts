import request from 'supertest';
import { startTestApp, TestApp } from './support/app';

describe('HTTP foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers liveness and readiness', async () => {
    await request(t.http).get('/api/v1/health/live').expect(200, { status: 'ok' });
    const ready = await request(t.http).get('/api/v1/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', objectStore: 'ok' } });
  });

  it('answers unknown routes with a problem+json 404', async () => {
    const res = await request(t.http).get('/api/v1/no-such-thing').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'urn:kura:problem:not-found', title: 'Not Found', status: 404 });
    expect(typeof res.body.detail).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('answers malformed JSON with a problem+json 400 and no internals', async () => {
    const res = await request(t.http)
      .post('/api/v1/health/live')
      .set('Content-Type', 'application/json')
      .send('{"broken": ')
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(JSON.stringify(res.body)).not.toMatch(/node_modules|\.js:\d+/);
  });

  it('answers invalid and unknown fields with a 400 problem naming each field', async () => {
    const res = await request(t.http)
      .post('/api/v1/auth/login')
      .send({ username: 42, password: 'x', sneaky: true })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'urn:kura:problem:validation', status: 400 });
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(['sneaky', 'username']);
  });

  it('logs a well-formed client X-Request-Id beside the server-generated id it answers with', async () => {
    const id = 'req-test-0123456789';
    const res = await request(t.http).get('/api/v1/health/live').set('X-Request-Id', id).expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.clientRequestId === id);
    expect(line).toMatchObject({ msg: 'request', path: '/api/v1/health/live', status: 200, requestId: res.headers['x-request-id'] });
  });

  it('replaces a malformed X-Request-Id with a fresh UUID and names it in problems', async () => {
    const res = await request(t.http).get('/api/v1/nope').set('X-Request-Id', 'bad id <script>').expect(404);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it('serves the OpenAPI document', async () => {
    const res = await request(t.http).get('/api/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toContain('/api/v1/health/ready');
    const ui = await request(t.http).get('/api/docs').redirects(1).expect(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.text).toMatch(/swagger/i);
  });
});
