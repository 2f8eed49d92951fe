import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { AuditVerifier } from '@kura/audit';
import { ContentReconciler } from '@kura/documents';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin, TestUser } from '../support/auth';
import { auditEvents, objectKeys, sql } from '../support/documents';
import { ManualUpload, until } from './support/client';

const FIELDS: Array<[string, string]> = [['title', 'Minutes'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'general']];

describe(ContentReconciler.name, () => {
  let t: TestApp;
  let base: string;
  let clerk: TestUser;
  let reconciler: ContentReconciler;
  let store: ObjectStore;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
    clerk = await createUser(t.http, await loginAdmin(t.http), { roles: ['staff'] });
    reconciler = t.app.get(ContentReconciler);
    store = t.app.get(ObjectStore);
  });
  afterAll(async () => {
    await t.close();
  });

  const upload = async () => {
    const res = await new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('m.txt').send(randomBytes(4096)).endFile().finish();
    expect(res.status).toBe(201);
    return String(res.json().id);
  };

  it('leaves young orphans alone and removes them once the grace period has passed', async () => {
    const id = await upload();
    const orphan = `documents/${randomUUID()}/${randomUUID()}`;
    await store.put(orphan, Readable.from([randomBytes(100)]));

    const young = await reconciler.reconcile({ graceMs: 3_600_000 });
    expect(young.orphansRemoved).toEqual([]);
    expect(await objectKeys(t.s3)).toContain(orphan);

    const old = await reconciler.reconcile({ graceMs: 0 });
    expect(old.orphansRemoved).toEqual([orphan]);
    expect(await objectKeys(t.s3)).not.toContain(orphan);
    const [row] = await sql<{ storage_key: string }>(t.databaseUrl, `SELECT storage_key FROM document_versions WHERE document_id = $1`, [id]);
    expect(await objectKeys(t.s3)).toContain(row.storage_key);
  });

  it('reports a live version whose object is missing as an integrity alarm, and deletes nothing', async () => {
    const id = await upload();
    const [row] = await sql<{ storage_key: string }>(t.databaseUrl, `SELECT storage_key FROM document_versions WHERE document_id = $1`, [id]);
    await store.delete(row.storage_key);
    t.clock.advance(120_000); // past the margin for versions committed while the run lists
    const report = await reconciler.reconcile({ graceMs: 0 });
    expect(report.missing).toEqual([{ documentId: id, version: 1, storageKey: row.storage_key }]);
    expect(report.orphansRemoved).toEqual([]);
    expect(await auditEvents(t.databaseUrl, `action = 'integrity.object_missing' AND target_id = $1`, [id])).toEqual([expect.objectContaining({ outcome: 'failed', details: { version: 1, objectKey: row.storage_key } })]);
  });

  it('an upload the reconciler gave up cannot commit afterwards: 503, and nothing of it is left', async () => {
    const before = (await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM documents'))[0].n;
    const keysBefore = await objectKeys(t.s3);
    const held = new ManualUpload(base, '/api/v1/documents', clerk.token).fileHeader('late.txt').send(randomBytes(4096)).endFile().fields(FIELDS.slice(0, 3)).openField('department');
    await until(async () => (await objectKeys(t.s3)).length === keysBefore.length + 1, 20_000, 'the held object');
    const report = await reconciler.reconcile({ graceMs: 0 });
    expect(report.orphansRemoved).toHaveLength(1);

    held.send('general\r\n');
    const res = await held.finish();
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM documents'))[0].n).toBe(before);
    expect((await objectKeys(t.s3)).sort()).toEqual(keysBefore.sort());
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });
});
