import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { ContentReconciler } from '@kura/documents';
import { startTestApp, TestApp } from '../support/app';
import { ADMIN, createUser, login, TestUser } from '../support/auth';
import { auditEvents, objectKeys, sql } from '../support/documents';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { ManualUpload, until } from './support/client';
import { ApiChild, kill9, startApi, tempKeysDir } from './support/processes';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FIELDS: Array<[string, string]> = [['title', 'Payroll record'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'hr']];

/**
 * Issue 10 finding 2: kill -9 of the api mid-upload. Acknowledged uploads stay intact,
 * the objects of uploads that never committed are removed by the reconciler, and the
 * audit chain verifies.
 */
describe('kill -9 of the api mid-upload', () => {
  const infra = testInfra();
  const s3 = { ...infra.s3, bucket: uniqueName('kura') };
  let databaseUrl: string;
  let keysDir: string;
  let api: ApiChild;
  let after: TestApp | undefined;

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    keysDir = await tempKeysDir();
    api = await startApi({ databaseUrl, s3, keysDir });
  });
  afterAll(async () => {
    if (api.child.exitCode === null && api.child.signalCode === null) await kill9(api);
    await after?.close();
  });

  it('keeps every acknowledged write, and the reconciler removes what the dead process left', async () => {
    const server = api.url as unknown as TestApp['http'];
    const admin = await login(server, ADMIN.username, ADMIN.password);
    const clerk: TestUser = await createUser(server, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['hr'] });
    const auditor: TestUser = await createUser(server, admin, { roles: ['auditor'] });

    const acknowledged: Array<{ id: string; sha256: string }> = [];
    for (let i = 0; i < 4; i++) {
      const content = randomBytes(20_000 + i);
      const u = new ManualUpload(api.url, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('a.bin').send(content).endFile();
      const res = await u.finish();
      expect(res.status).toBe(201);
      acknowledged.push({ id: String(res.json().id), sha256: sha(content) });
    }

    // Three uploads whose objects are fully written, held before their fields end (never committed) ...
    const held = Array.from({ length: 3 }, () =>
      new ManualUpload(api.url, '/api/v1/documents', clerk.token).fileHeader('b.bin').send(randomBytes(30_000)).endFile().fields(FIELDS).openField('tags'),
    );
    // ... and two cut mid-file (an intent, no object).
    const midFile = Array.from({ length: 2 }, () => new ManualUpload(api.url, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('c.bin').send(randomBytes(10_000)));
    await until(async () => (await objectKeys(s3)).length === 7, 30_000, 'the held objects to be written');
    await until(async () => (await sql<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM pending_uploads'))[0].n === 5, 30_000, 'the intents of the in-flight uploads');

    await kill9(api);
    for (const u of [...held, ...midFile]) await expect(u.answer).rejects.toThrow();

    const versionKeys = async () => (await sql<{ storage_key: string }>(databaseUrl, 'SELECT storage_key FROM document_versions')).map((r) => r.storage_key).sort();
    // What kill -9 leaves: three objects no version row claims.
    expect(await objectKeys(s3)).toHaveLength(7);
    expect(await versionKeys()).toHaveLength(4);

    // Recovery: a new instance; the reconciler runs by hand (the worker runs it on its interval).
    after = await startTestApp({ databaseUrl, s3, keysDir });
    const report = await after.app.get(ContentReconciler).reconcile({ graceMs: 0 });
    expect(report.orphansRemoved).toHaveLength(3);
    expect(report.intentsCleared).toBe(5);
    expect(report.missing).toEqual([]);
    expect((await objectKeys(s3)).sort()).toEqual(await versionKeys());
    expect(await sql(databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
    expect((await auditEvents(databaseUrl, `action = 'content.orphan_removed'`)).length).toBe(3);

    for (const a of acknowledged) {
      const res = await request(after.http).get(`/api/v1/documents/${a.id}/content`).set('Authorization', `Bearer ${clerk.token}`).buffer(true).parse((r, cb) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => cb(null, Buffer.concat(parts)));
      });
      expect(res.status).toBe(200);
      expect(sha(res.body as Buffer)).toBe(a.sha256);
    }
    const chain = await request(after.http).get('/api/v1/audit/verify').set('Authorization', `Bearer ${auditor.token}`);
    expect(chain.status).toBe(200);
    expect(chain.body).toMatchObject({ valid: true });
  });
});
