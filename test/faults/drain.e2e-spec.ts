import { createHash, randomBytes } from 'node:crypto';
import { AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from '../support/app';
import { ADMIN, createUser, login } from '../support/auth';
import { objectKeys, sql } from '../support/documents';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { call, ManualUpload, until } from './support/client';
import { ApiChild, kill9, startApi, tempKeysDir } from './support/processes';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FIELDS: Array<[string, string]> = [['title', 'Drained'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'general']];

/**
 * Issue 10 finding 3: SIGTERM with uploads in flight. Each upload completes or gets a
 * clean 503; nothing is half-done; new requests get 503 while draining.
 */
describe('SIGTERM with uploads in flight', () => {
  const s3 = { ...testInfra().s3, bucket: uniqueName('kura') };
  let databaseUrl: string;
  let keysDir: string;
  let api: ApiChild;
  let after: TestApp | undefined;

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    keysDir = await tempKeysDir();
    api = await startApi({ databaseUrl, s3, keysDir, env: { SHUTDOWN_TIMEOUT_MS: '3000' } });
  });
  afterAll(async () => {
    if (api.child.exitCode === null && api.child.signalCode === null) await kill9(api);
    await after?.close();
  });

  it('lets in-flight uploads finish, answers new requests 503, and aborts the rest cleanly at the timeout', async () => {
    const server = api.url as unknown as TestApp['http'];
    const clerk = await createUser(server, await login(server, ADMIN.username, ADMIN.password), { roles: ['staff'] });
    const start = () => new ManualUpload(api.url, '/api/v1/documents', clerk.token);
    // Each upload's file is complete (its object written), and the request is held on its last field.
    const held = () => {
      const content = randomBytes(40_000);
      return { content, upload: start().fileHeader('d.bin').send(content).endFile().fields(FIELDS.slice(0, 3)).openField('department') };
    };
    const finishing = [held(), held()];
    const stuck = [held(), held()].map((h) => h.upload);
    await until(async () => (await objectKeys(s3)).length === 4, 20_000, 'all four objects to be written');

    const signalled = Date.now();
    api.child.kill('SIGTERM');
    await until(() => api.lines.some((l) => l.msg === 'draining'), 10_000, 'the drain to start');

    // New work is refused cleanly while in-flight work goes on.
    const ready = await call(api.url, 'GET', '/api/v1/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBeDefined();
    expect(ready.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fresh = await start().fields(FIELDS).fileHeader('n.bin').send(randomBytes(1000)).endFile().finish();
    expect(fresh.status).toBe(503);

    const done = await Promise.all(finishing.map((f) => f.upload.send('general\r\n').finish()));
    for (const [i, res] of done.entries()) {
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ sha256: sha(finishing[i].content) });
    }

    // The two that never finish are answered 503 at the timeout, not cut without a word.
    for (const u of stuck) {
      const res = await u.answer;
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      u.destroy();
    }
    expect(await api.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(3_000 + 10_000);

    // Nothing half-done: two documents and their objects; the aborted uploads' objects are gone.
    const versions = await sql<{ storage_key: string; sha256: string }>(databaseUrl, 'SELECT storage_key, sha256 FROM document_versions');
    expect(versions.map((v) => v.sha256).sort()).toEqual(done.map((r) => String(r.json().sha256)).sort());
    expect((await objectKeys(s3)).sort()).toEqual(versions.map((v) => v.storage_key).sort());
    expect(await sql(databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
    // The chain, read by the next instance on the same database and keys.
    after = await startTestApp({ databaseUrl, s3, keysDir });
    await expect(after.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });
});
