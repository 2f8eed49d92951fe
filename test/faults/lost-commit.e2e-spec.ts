import { createHash } from 'node:crypto';
import request from 'supertest';
import { AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin, TestUser } from '../support/auth';
import { objectKeys, sql } from '../support/documents';
import { createDatabase, testInfra } from '../support/infra';
import { multipartBuffer } from '../support/multipart';
import { PgCommitCutter } from './support/pg-proxy';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Issue 10 finding 1: the reply to a COMMIT is lost on the wire after PostgreSQL committed.
 * The request cannot know the outcome from the error alone; it must never delete the
 * object of a version row that may have committed.
 */
describe('a lost COMMIT reply', () => {
  let t: TestApp;
  let proxy: PgCommitCutter;
  let clerk: TestUser;

  beforeAll(async () => {
    const direct = await createDatabase();
    const target = new URL(testInfra().databaseUrl);
    proxy = new PgCommitCutter(target.hostname, Number(target.port));
    await proxy.start();
    t = await startTestApp({ databaseUrl: proxy.rewrite(direct) });
    // Assertions read the database directly, not through the proxy.
    (t as { databaseUrl: string }).databaseUrl = direct;
    const admin = await loginAdmin(t.http);
    clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['finance'] });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  const body = (content: Buffer, extra: Array<[string, string]> = []) =>
    multipartBuffer(
      [['title', 'Travel policy'], ['kind', 'policy'], ['classification', 'INTERNAL'], ['department', 'finance'], ...extra],
      { filename: 'travel.txt', content },
    );

  const download = (id: string) => request(t.http).get(`/api/v1/documents/${id}/content`).set('Authorization', `Bearer ${clerk.token}`).buffer(true).parse((res, cb) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => cb(null, Buffer.concat(parts)));
  });

  it('keeps the object of a created document whose COMMIT reply was lost', async () => {
    const content = Buffer.from('committed but unacknowledged '.repeat(500));
    const m = await body(content);
    const cut = proxy.cutNextCommitAfter(/INSERT INTO "document_versions"/);
    const res = await request(t.http).post('/api/v1/documents').set('Authorization', `Bearer ${clerk.token}`).set('Content-Type', m.contentType).send(m.body);
    await cut;

    const rows = await sql<{ document_id: string; storage_key: string }>(t.databaseUrl, `SELECT document_id, storage_key FROM document_versions WHERE sha256 = $1`, [sha(content)]);
    expect(rows).toHaveLength(1);
    // The rows committed: the object they name must still be there, and the content readable.
    expect(await objectKeys(t.s3)).toContain(rows[0].storage_key);
    const got = await download(rows[0].document_id);
    expect(got.status).toBe(200);
    expect(sha(got.body as Buffer)).toBe(sha(content));
    // The client hears the truth: the outcome was looked up after the lost reply.
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: rows[0].document_id, sha256: sha(content) });
    expect(await sql(t.databaseUrl, `SELECT 1 FROM pending_uploads`)).toEqual([]);
  });

  it('keeps the object of a new version whose COMMIT reply was lost: the current version stays readable', async () => {
    const first = Buffer.from('version one '.repeat(300));
    const m1 = await body(first);
    const created = await request(t.http).post('/api/v1/documents').set('Authorization', `Bearer ${clerk.token}`).set('Content-Type', m1.contentType).send(m1.body);
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const second = Buffer.from('version two '.repeat(300));
    const m2 = await multipartBuffer([['comment', 'v2']], { filename: 'travel.txt', content: second });
    const cut = proxy.cutNextCommitAfter(/INSERT INTO "document_versions"/);
    const res = await request(t.http).post(`/api/v1/documents/${id}/versions`).set('Authorization', `Bearer ${clerk.token}`).set('If-Match', '"v1"').set('Content-Type', m2.contentType).send(m2.body);
    await cut;

    const [doc] = await sql<{ current_version: number }>(t.databaseUrl, `SELECT current_version FROM documents WHERE id = $1`, [id]);
    expect(doc.current_version).toBe(2);
    const got = await download(id);
    expect(got.status).toBe(200);
    expect(sha(got.body as Buffer)).toBe(sha(second));
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"v2"');
  });

  it('after the lost replies: every object claimed by a version row, no intent left, the audit chain verifies', async () => {
    const versions = await sql<{ storage_key: string }>(t.databaseUrl, 'SELECT storage_key FROM document_versions');
    expect((await objectKeys(t.s3)).sort()).toEqual(versions.map((v) => v.storage_key).sort());
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });
});
