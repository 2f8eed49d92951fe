import request from 'supertest';
import { JsonLogger } from '@kura/common';
import { createWorker } from '../apps/worker/src/worker.factory';
import { startTestApp, TestApp } from './support/app';
import { loginAdmin } from './support/auth';

jest.setTimeout(120_000);

describe('logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  const entries = () => t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The access line is written on the response's 'finish', which may come just after the client has the answer. */
  async function requestLine(requestId: string): Promise<Record<string, unknown> | undefined> {
    for (let i = 0; i < 50; i++) {
      const line = entries().find((l) => l.msg === 'request' && l.requestId === requestId);
      if (line) return line;
      await new Promise((r) => setImmediate(r));
    }
    return undefined;
  }

  it('start-up is quiet: no per-route or per-module lines, and no data-source warning with api and worker in one process', async () => {
    // Nest's static logger follows the last application created: the worker writes where the api does, as in `npm start`.
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('info', (l) => t.logs.push(l)), t.clock, { schedule: false });
    await worker.close();
    const all = entries();
    expect(all.filter((l) => ['RouterExplorer', 'RoutesResolver', 'InstanceLoader'].includes(String(l.context)))).toEqual([]);
    expect(all.filter((l) => /already registered/.test(String(l.msg)))).toEqual([]);
  });

  it('request lines name the authenticated user', async () => {
    const token = await loginAdmin(t.http);
    const me = await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(await requestLine(me.headers['x-request-id'] as string)).toMatchObject({ path: '/api/v1/auth/me', status: 200, userId: (me.body as { id: string }).id });
    const anonymous = await request(t.http).get('/api/v1/health/live').expect(200);
    const anonymousLine = await requestLine(anonymous.headers['x-request-id'] as string);
    expect(anonymousLine).toMatchObject({ path: '/api/v1/health/live' });
    expect(anonymousLine!.userId).toBeUndefined();
    expect(t.logs.join('\n')).not.toContain(token);
  });
});
