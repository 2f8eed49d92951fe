import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import request from 'supertest';
import { Client } from 'pg';
import { requestContext } from '@kura/common';
import { startTestApp, TestApp } from './support/app';
import { auditEvents, objectKeys, readObject, sql } from './support/documents';
import { createUser, loginAdmin, TestUser } from './support/auth';

jest.setTimeout(120_000);

/** The audit sequencer's own statements: it chains in batches after the commit, outside the create's cost. */
const SEQUENCER = /pg_advisory_xact_lock|^WITH chained AS|FROM audit_pending\) AS any/;

/**
 * What one 4 KiB create costs in round trips (issue 14: "profile a 4 KiB create and remove what
 * is not essential per document"): the SQL statements its request sends and the S3 requests it
 * makes. The essentials stay and are asserted too: the write-ahead intent commits before the
 * object is written, and document, version, audit event and the intent's fulfilment commit in
 * one transaction.
 */
describe('the cost of a 4 KiB create', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    alice = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['finance'] });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Runs `work` and returns the statements sent and S3 requests made on behalf of requests (not background jobs). */
  async function costOf(work: () => Promise<unknown>): Promise<{ statements: string[]; s3: string[] }> {
    const statements: string[] = [];
    const s3: string[] = [];
    const inSequencer = new WeakSet<object>();
    const query = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const first = args[0];
      const text = (typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '')).replace(/\s+/g, ' ').trim();
      // A sequencer pass (maybe kicked from the request) runs on its own client until it commits.
      if (SEQUENCER.test(text)) inSequencer.add(this);
      else if (inSequencer.has(this)) {
        if (/^(COMMIT|ROLLBACK)/.test(text)) inSequencer.delete(this);
      } else if (requestContext.current()) statements.push(text);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    const addRequest = (http.Agent.prototype as unknown as { addRequest: (req: http.ClientRequest, o: { port?: unknown }) => void }).addRequest;
    const agentSpy = jest.spyOn(http.Agent.prototype as unknown as { addRequest: typeof addRequest }, 'addRequest').mockImplementation(function (this: http.Agent, req, o) {
      if (String(o.port) === String(t.s3.port)) s3.push(`${req.method} ${req.path.includes('?') ? req.path.split('?')[1] : ''}`.trim());
      return addRequest.call(this, req, o);
    });
    try {
      await work();
    } finally {
      spy.mockRestore();
      agentSpy.mockRestore();
    }
    return { statements, s3 };
  }

  it('sends one S3 PUT and 6 SQL statements; intent, then one transaction with the audit event', async () => {
    const content = randomBytes(4096);
    let id = '';
    const cost = await costOf(async () => {
      const res = await request(t.http)
        .post('/api/v1/documents')
        .set('Authorization', `Bearer ${alice.token}`)
        .field('title', 'Scanned slip')
        .field('kind', 'record')
        .field('classification', 'CONFIDENTIAL')
        .field('department', 'finance')
        .attach('file', content, 'slip.bin')
        .expect(201);
      id = (res.body as { id: string }).id;
    });

    // One PutObject: a small file is never sent as a multipart upload (initiate + part + complete).
    expect(cost.s3).toEqual(['PUT']);
    // The session and its user in one statement; the write-ahead intent committed on its own
    // before the first byte; then START, the intent's fulfilment with the document and its
    // version (one statement), the audit event, COMMIT.
    expect(cost.statements).toHaveLength(6);
    expect(cost.statements[0]).toMatch(/FROM "?sessions"?/i);
    expect(cost.statements[1]).toMatch(/^INSERT INTO pending_uploads/);
    expect(cost.statements.slice(2)).toEqual([
      'START TRANSACTION',
      expect.stringMatching(/DELETE FROM pending_uploads.*INSERT INTO "?documents"?.*INSERT INTO "?document_versions"?/),
      expect.stringMatching(/^INSERT INTO audit_pending/),
      'COMMIT',
    ]);

    // Nothing essential was dropped: the rows, the chained audit event, the ciphertext.
    const [doc] = await sql<{ title: string; current_version: number; tags: string[] }>(t.databaseUrl, 'SELECT title, current_version, tags FROM documents WHERE id = $1', [id]);
    expect(doc).toEqual({ title: 'Scanned slip', current_version: 1, tags: [] });
    const [version] = await sql<{ sha256: string; size: number; storage_key: string }>(t.databaseUrl, 'SELECT sha256, size::int AS size, storage_key FROM document_versions WHERE document_id = $1', [id]);
    expect(version).toMatchObject({ sha256: createHash('sha256').update(content).digest('hex'), size: 4096 });
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads WHERE storage_key = $1', [version.storage_key])).toHaveLength(0);
    expect((await auditEvents(t.databaseUrl, 'target_id = $1', [id])).map((e) => [e.action, e.outcome])).toEqual([['document.create', 'allowed']]);
    const stored = await readObject(t.s3, version.storage_key);
    expect(stored.length).toBe(4096 + 16);
    expect(stored.includes(content.subarray(0, 32))).toBe(false);
    const got = await request(t.http).get(`/api/v1/documents/${id}/content`).set('Authorization', `Bearer ${alice.token}`).buffer(true).parse((r, cb) => {
      const parts: Buffer[] = [];
      r.on('data', (c: Buffer) => parts.push(c));
      r.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect(Buffer.compare(got.body as Buffer, content)).toBe(0);
  });

  it('a create in a series that does not exist still answers 400 and leaves no document, version, intent or object', async () => {
    const before = await sql<{ n: number }>(t.databaseUrl, 'SELECT (SELECT count(*) FROM documents)::int + (SELECT count(*) FROM document_versions)::int + (SELECT count(*) FROM pending_uploads)::int AS n');
    const objectsBefore = (await objectKeys(t.s3)).length;
    const res = await request(t.http)
      .post('/api/v1/documents')
      .set('Authorization', `Bearer ${alice.token}`)
      .field('title', 'Orphan slip')
      .field('kind', 'record')
      .field('classification', 'CONFIDENTIAL')
      .field('department', 'finance')
      .field('seriesId', '00000000-0000-4000-8000-000000000000')
      .attach('file', randomBytes(4096), 'slip.bin');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const after = await sql<{ n: number }>(t.databaseUrl, 'SELECT (SELECT count(*) FROM documents)::int + (SELECT count(*) FROM document_versions)::int + (SELECT count(*) FROM pending_uploads)::int AS n');
    expect(after[0].n).toBe(before[0].n);
    expect((await objectKeys(t.s3)).length).toBe(objectsBefore);
  });

  it('a create whose intent the reconciler gave up meanwhile answers 503 and commits nothing: no document, version, audit event or object', async () => {
    const objectsBefore = (await objectKeys(t.s3)).length;
    const query = Client.prototype.query;
    let dropped = '';
    // Just before the statement that fulfils the intent, the intent disappears (as when the
    // reconciler outlived the grace period and deleted it with its object).
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : '';
      const params = args[1] as unknown[] | undefined;
      if (!dropped && /DELETE FROM pending_uploads WHERE storage_key = \$26/.test(text) && params) {
        dropped = String(params[25]);
        return sql(t.databaseUrl, 'DELETE FROM pending_uploads WHERE storage_key = $1', [dropped]).then(() => (query as (...a: unknown[]) => unknown).apply(this, args));
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    let res;
    try {
      res = await request(t.http)
        .post('/api/v1/documents')
        .set('Authorization', `Bearer ${alice.token}`)
        .field('title', 'Given up')
        .field('kind', 'record')
        .field('classification', 'CONFIDENTIAL')
        .field('department', 'finance')
        .attach('file', randomBytes(4096), 'slip.bin');
    } finally {
      spy.mockRestore();
    }
    expect(dropped).toMatch(/^documents\//);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await sql(t.databaseUrl, "SELECT 1 FROM documents WHERE title = 'Given up'")).toHaveLength(0);
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM document_versions WHERE storage_key = $1', [dropped])).toHaveLength(0);
    const documentId = dropped.split('/')[1];
    expect((await auditEvents(t.databaseUrl, 'target_id = $1', [documentId])).filter((e) => e.outcome === 'allowed')).toEqual([]);
    expect((await objectKeys(t.s3)).length).toBe(objectsBefore);
  });
});
