import { randomBytes } from 'node:crypto';
import { AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin, TestUser } from '../support/auth';
import { objectKeys, sql } from '../support/documents';
import { call, ManualUpload, until } from './support/client';

const FIELDS: Array<[string, string]> = [['title', 'Stalled'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'general']];

/** Issue 10 finding 6: stalled and aborted uploads. */
describe('stalled and aborted uploads', () => {
  let t: TestApp;
  let base: string;
  let clerk: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { UPLOAD_IDLE_TIMEOUT_MS: '1000' } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
    clerk = await createUser(t.http, await loginAdmin(t.http), { roles: ['staff'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const nothingLeft = async () => {
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM documents')).toEqual([]);
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
    expect(await objectKeys(t.s3)).toEqual([]);
  };

  it('an upload body that stops sending is answered 408 problem+json within the idle timeout, and leaves nothing', async () => {
    const started = Date.now();
    const stalled = new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('s.bin').send(randomBytes(200_000));
    const res = await stalled.answer;
    expect(res.status).toBe(408);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 408, type: 'urn:kura:problem:request-timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
    stalled.destroy();
    await until(async () => (await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).length === 0, 10_000, 'the intent to be abandoned');
    await nothingLeft();
  });

  it('twenty uploads stalled at once are each answered 408 problem+json within the idle timeout, and leave nothing', async () => {
    const started = Date.now();
    const stalled = Array.from({ length: 20 }, () => new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('s.bin').send(randomBytes(500_000)));
    const answers = await Promise.all(stalled.map((u) => u.answer));
    for (const res of answers) {
      expect(res.status).toBe(408);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(Date.now() - started).toBeLessThan(8_000);
    for (const u of stalled) u.destroy();
    await until(async () => (await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).length === 0, 10_000, 'the intents to be abandoned');
    await nothingLeft();
  });

  it('a client that aborts mid-upload is logged at info, not as a server error, and leaves nothing', async () => {
    const before = t.logs.length;
    const aborted = new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('a.bin').send(randomBytes(300_000));
    await until(async () => (await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).length === 1, 10_000, 'the upload to start');
    aborted.destroy();
    await until(async () => (await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).length === 0, 10_000, 'the intent to be abandoned');
    await nothingLeft();
    const lines = t.logs.slice(before).map((l) => JSON.parse(l) as { level: string; msg?: string });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', msg: 'client closed the request' }));
  });

  it('after the stalled and aborted uploads: still ready, and the audit chain verifies', async () => {
    expect((await call(base, 'GET', '/api/v1/health/ready')).status).toBe(200);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });
});
