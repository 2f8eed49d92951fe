import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { auditEvents, minio, objectKeys, readObject, sql } from './support/documents';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { multipartBuffer } from './support/multipart';

jest.setTimeout(120_000);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });
/** supertest parser that keeps the body as raw bytes whatever the content type. */
const binary = (r: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const parts: Buffer[] = [];
  r.on('data', (c: Buffer) => parts.push(c));
  r.on('end', () => cb(null, Buffer.concat(parts)));
};

describe('Documents HTTP API', () => {
  let t: TestApp;
  let alice: TestUser; // staff, finance, CONFIDENTIAL
  let bob: TestUser; // staff, sales, SECRET
  let officer: TestUser;
  let auditor: TestUser;
  let handler: TestUser; // My Number handler, hr

  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) } });
    const admin = await loginAdmin(t.http);
    alice = await createUser(t.http, admin, { username: 'alice', roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['finance'] });
    bob = await createUser(t.http, admin, { username: 'bob', roles: ['staff'], clearance: 'SECRET', departments: ['sales'] });
    officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: [] });
    auditor = await createUser(t.http, admin, { roles: ['auditor'], clearance: 'SECRET', departments: [] });
    handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const upload = (u: TestUser, fields: Record<string, string | string[]>, content: Buffer, filename = 'report.txt') => {
    let req = request(t.http).post('/api/v1/documents').set(auth(u));
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) req = req.field(k, one);
    return req.attach('file', content, filename);
  };
  const base = { title: 'Travel policy', kind: 'policy', classification: 'CONFIDENTIAL', department: 'finance' };

  describe('worked example: upload, list, download', () => {
    const plain = Buffer.from('出張旅費規程 — travel expenses policy\n'.repeat(5000));
    let id: string;

    it('uploads (201, contract fields), the bucket holds only ciphertext', async () => {
      const res = await upload(alice, { ...base, tags: ['travel', 'expenses'], personalData: 'none' }, plain, '旅費規程.txt').expect(201);
      expect(Object.keys(res.body)).toEqual(expect.arrayContaining(['id', 'title', 'kind', 'classification', 'department', 'ownerId', 'personalData', 'seriesId', 'status', 'version', 'sha256', 'size', 'createdAt']));
      expect(res.body).toMatchObject({ title: 'Travel policy', kind: 'policy', classification: 'CONFIDENTIAL', department: 'finance', ownerId: alice.id, personalData: 'none', seriesId: null, status: 'active', version: 1, sha256: sha(plain), size: plain.length });
      id = res.body.id;
      const [key] = (await objectKeys(t.s3)).filter((k) => k.includes(id));
      const raw = await readObject(t.s3, key);
      expect(raw.subarray(0, 64).equals(plain.subarray(0, 64))).toBe(false);
      expect(raw.includes(plain.subarray(0, 48))).toBe(false);
      expect(raw.includes(Buffer.from('travel expenses policy'))).toBe(false);
    });

    it('lists with filters and paging, the classification as its name', async () => {
      const res = await request(t.http).get('/api/v1/documents').query({ q: 'travel', kind: 'policy', classification: 'CONFIDENTIAL', department: 'finance', tag: 'travel', page: 1, pageSize: 10 }).set(auth(alice)).expect(200);
      expect(res.body).toMatchObject({ page: 1, pageSize: 10, total: 1, items: [expect.objectContaining({ id, classification: 'CONFIDENTIAL' })] });
      await request(t.http).get('/api/v1/documents').query({ pageSize: 1000 }).set(auth(alice)).expect(400);
      await request(t.http).get('/api/v1/documents').query({ classification: 'ULTRA' }).set(auth(alice)).expect(400);
      await request(t.http).get('/api/v1/documents').query({ owner: 'x' }).set(auth(alice)).expect(400);
      const listed = await auditEvents(t.databaseUrl, "action = 'document.list' AND actor_id = $1", [alice.id]);
      expect(listed[0]).toMatchObject({ outcome: 'allowed', details: expect.objectContaining({ filter: expect.objectContaining({ q: 'travel', classification: 'CONFIDENTIAL' }) }) });
    });

    it('reads metadata with an ETag naming the current version', async () => {
      const res = await request(t.http).get(`/api/v1/documents/${id}`).set(auth(alice)).expect(200);
      expect(res.headers.etag).toBe('"v1"');
      expect(res.body).toMatchObject({ id, version: 1 });
    });

    it('downloads the bytes with X-Classification and an RFC 6266 Content-Disposition', async () => {
      const res = await request(t.http).get(`/api/v1/documents/${id}/content`).set(auth(alice)).buffer(true).parse(binary).expect(200);
      expect(sha(res.body as Buffer)).toBe(sha(plain));
      expect(res.headers['x-classification']).toBe('CONFIDENTIAL');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="____.txt"; filename*=UTF-8''${encodeURIComponent('旅費規程.txt')}`);
      expect(res.headers['cache-control']).toBe('no-store');
      const events = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.download'", [id]);
      expect(events).toEqual([expect.objectContaining({ outcome: 'allowed', actor_id: alice.id })]);
    });
  });

  describe('versions', () => {
    it('428 without If-Match, 412 on a stale one (nothing written), 201 and restore', async () => {
      const v1 = randomBytes(5000);
      const { body: doc } = await upload(alice, { ...base, title: 'Versioned' }, v1).expect(201);
      const objectsBefore = (await objectKeys(t.s3)).length;
      const v2 = randomBytes(6000);
      const r428 = await request(t.http).post(`/api/v1/documents/${doc.id}/versions`).set(auth(alice)).attach('file', v2, 'v2.bin').expect(428);
      expect(r428.headers['content-type']).toMatch(/problem\+json/);
      await request(t.http).post(`/api/v1/documents/${doc.id}/versions`).set(auth(alice)).set('If-Match', '"v9"').attach('file', v2, 'v2.bin').expect(412);
      expect((await objectKeys(t.s3)).length).toBe(objectsBefore);
      expect((await sql(t.databaseUrl, 'SELECT 1 FROM document_versions WHERE document_id = $1', [doc.id])).length).toBe(1);

      const res = await request(t.http).post(`/api/v1/documents/${doc.id}/versions`).set(auth(alice)).set('If-Match', '"v1"').field('comment', 'fixed typo').attach('file', v2, 'v2.bin').expect(201);
      expect(res.headers.etag).toBe('"v2"');
      expect(res.body).toMatchObject({ id: doc.id, version: 2, sha256: sha(v2), size: 6000 });
      const list = await request(t.http).get(`/api/v1/documents/${doc.id}/versions`).set(auth(alice)).expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({ number: 1, sha256: sha(v1), size: 5000, authorId: alice.id, comment: null, createdAt: expect.any(String) }),
        expect.objectContaining({ number: 2, sha256: sha(v2), size: 6000, comment: 'fixed typo' }),
      ]);
      const restored = await request(t.http).post(`/api/v1/documents/${doc.id}/versions/1/restore`).set(auth(alice)).expect(201);
      expect(restored.body).toMatchObject({ version: 3, sha256: sha(v1) });
      const old = await request(t.http).get(`/api/v1/documents/${doc.id}/content?version=2`).set(auth(alice)).buffer(true).parse(binary).expect(200);
      expect(sha(old.body as Buffer)).toBe(sha(v2));
      expect(old.headers['x-document-version']).toBe('2');
      const current = await request(t.http).get(`/api/v1/documents/${doc.id}/content`).set(auth(alice)).buffer(true).parse(binary).expect(200);
      expect(sha(current.body as Buffer)).toBe(sha(v1));
      await request(t.http).get(`/api/v1/documents/${doc.id}/content?version=99`).set(auth(alice)).expect(404);
      await request(t.http).get(`/api/v1/documents/${doc.id}/content?version=zero`).set(auth(alice)).expect(400);
    });
  });

  describe('metadata and reclassification', () => {
    it('PATCH changes title, tags and review date; rejects unknown fields; reclassification audited with old and new level', async () => {
      const { body: doc } = await upload(alice, { ...base, title: 'Patch me', classification: 'INTERNAL' }, randomBytes(100)).expect(201);
      await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(alice)).send({ owner: 'me' }).expect(400);
      const res = await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(alice)).send({ title: 'Patched', tags: ['x'], reviewDueAt: '2030-01-01T00:00:00Z' }).expect(200);
      expect(res.body).toMatchObject({ title: 'Patched', tags: ['x'], reviewDueAt: '2030-01-01T00:00:00.000Z' });
      await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(alice)).send({ classification: 'CONFIDENTIAL' }).expect(200);
      await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(alice)).send({ classification: 'PUBLIC' }).expect(403);
      await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(officer)).send({ classification: 0 }).expect(200);
      const events = (await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.reclassify'", [doc.id])).map((e) => [e.outcome, e.details.from, e.details.to]);
      expect(events).toEqual([
        ['allowed', 'INTERNAL', 'CONFIDENTIAL'],
        ['denied', 'CONFIDENTIAL', 'PUBLIC'],
        ['allowed', 'CONFIDENTIAL', 'PUBLIC'],
      ]);
    });

    it('lists overdue policies and procedures', async () => {
      const { body: doc } = await upload(alice, { ...base, title: 'Overdue procedure', kind: 'procedure', reviewDueAt: '2020-01-01T00:00:00Z' }, randomBytes(10)).expect(201);
      const res = await request(t.http).get('/api/v1/documents?reviewOverdue=true').set(auth(alice)).expect(200);
      expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([doc.id]);
    });
  });

  describe('visibility of specific personal information', () => {
    it('answers 404 byte-identical to a missing document (apart from instance/requestId), omits it from lists, audits denied', async () => {
      const { body: doc } = await upload(handler, { title: 'Employee My Number register', kind: 'record', classification: 'SECRET', department: 'hr', personalData: 'specific' }, randomBytes(100)).expect(201);
      const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined, requestId: undefined });
      for (const suffix of ['', '/content', '/versions', '/access-history']) {
        const hidden = await request(t.http).get(`/api/v1/documents/${doc.id}${suffix}`).set(auth(bob));
        const missing = await request(t.http).get(`/api/v1/documents/${randomUUID()}${suffix}`).set(auth(bob));
        expect(hidden.status).toBe(404);
        expect(missing.status).toBe(404);
        expect(strip(hidden.body)).toEqual(strip(missing.body));
        expect(hidden.headers['content-type']).toBe(missing.headers['content-type']);
        expect(hidden.headers['content-length']).toBe(missing.headers['content-length']);
      }
      const denied = await auditEvents(t.databaseUrl, "target_id = $1 AND outcome = 'denied'", [doc.id]);
      expect(denied.length).toBeGreaterThanOrEqual(4);
      for (const u of [bob, officer, auditor]) {
        const list = await request(t.http).get('/api/v1/documents?pageSize=100').set(auth(u)).expect(200);
        expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(doc.id);
      }
      // Its handler reads it, for a permitted purpose (My Number: purpose-bound access, test/mynumber-purposes.e2e-spec.ts).
      await request(t.http).get(`/api/v1/documents/${doc.id}`).set(auth(handler)).expect(400);
      await request(t.http).post('/api/v1/mynumber/purposes').set(auth(officer)).send({ code: 'register', nameJa: '番号管理', nameEn: 'Register' }).expect(201);
      await request(t.http).put(`/api/v1/mynumber/documents/${doc.id}/purposes`).set(auth(handler)).send({ purposes: ['register'] }).expect(200);
      await request(t.http).get(`/api/v1/documents/${doc.id}`).set(auth(handler)).set('X-Purpose', 'register').expect(200);
    });
  });

  describe('access history and inventory', () => {
    it('shows a document’s events to its owner and auditors, not to other staff', async () => {
      const { body: doc } = await upload(alice, { ...base, title: 'History', classification: 'PUBLIC' }, randomBytes(10)).expect(201);
      await request(t.http).get(`/api/v1/documents/${doc.id}`).set(auth(bob)).expect(200);
      const own = await request(t.http).get(`/api/v1/documents/${doc.id}/access-history`).set(auth(alice)).expect(200);
      expect(own.body.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['document.create', 'document.read']));
      await request(t.http).get(`/api/v1/documents/${doc.id}/access-history`).set(auth(auditor)).expect(200);
      await request(t.http).get(`/api/v1/documents/${doc.id}/access-history`).set(auth(bob)).expect(403);
    });

    it('serves the inventory as JSON and CSV to records officers and auditors only', async () => {
      const json = await request(t.http).get('/api/v1/reports/inventory?format=json').set(auth(officer)).expect(200);
      expect(json.body.items[0]).toEqual(expect.objectContaining({ id: expect.any(String), title: expect.any(String), kind: expect.any(String), classification: expect.any(String), ownerId: expect.any(String), department: expect.any(String), personalData: expect.any(String), versions: expect.any(Number), size: expect.any(Number), createdAt: expect.any(String) }));
      expect(json.body.items.every((i: { personalData: string }) => i.personalData !== 'specific')).toBe(true);
      const csv = await request(t.http).get('/api/v1/reports/inventory?format=csv').set(auth(auditor)).expect(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.text.split('\r\n')[0]).toBe('id,title,kind,classification,ownerId,department,personalData,seriesId,status,versions,size,totalSize,createdAt,lastAccessedAt');
      await request(t.http).get('/api/v1/reports/inventory').set(auth(alice)).expect(403);
      await request(t.http).get('/api/v1/reports/inventory?format=xml').set(auth(officer)).expect(400);
    });
  });

  describe('bad uploads', () => {
    it('413 over the maximum, no object and no row', async () => {
      const before = { objects: (await objectKeys(t.s3)).length, rows: (await sql(t.databaseUrl, 'SELECT id FROM documents')).length };
      const res = await upload(alice, base, randomBytes(3 * 1024 * 1024)).expect(413);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect({ objects: (await objectKeys(t.s3)).length, rows: (await sql(t.databaseUrl, 'SELECT id FROM documents')).length }).toEqual(before);
    });

    it.each([
      ['empty file', base, Buffer.alloc(0), 'a.txt'],
      ['missing kind', { title: 'x', classification: 'PUBLIC', department: 'finance' }, Buffer.from('x'), 'a.txt'],
      ['unknown classification', { ...base, classification: 'RESTRICTED' }, Buffer.from('x'), 'a.txt'],
      ['path-like filename', base, Buffer.from('x'), '../../etc/passwd'],
      ['backslash filename', base, Buffer.from('x'), '..\\boot.ini'],
    ])('400 for %s', async (_l, fields, content, filename) => {
      const m = await multipartBuffer(Object.entries(fields), { filename, content });
      const res = await request(t.http).post('/api/v1/documents').set(auth(alice)).set('Content-Type', m.contentType).send(m.body).expect(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    });

    it('leaves no object and no row when the client disconnects mid-upload', async () => {
      const before = { objects: (await objectKeys(t.s3)).length, rows: (await sql(t.databaseUrl, 'SELECT id FROM documents')).length };
      const server = t.http.listening ? t.http : t.http.listen(0);
      const { port } = server.address() as { port: number };
      const boundary = 'kura-abort-boundary';
      const head = Object.entries(base).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')
        + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
      await new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/documents', headers: { ...auth(alice), 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Transfer-Encoding': 'chunked' } });
        req.on('error', () => resolve());
        req.write(head);
        req.write(randomBytes(1024 * 1024));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      });
      for (let i = 0; i < 50; i++) {
        const now = { objects: (await objectKeys(t.s3)).length, rows: (await sql(t.databaseUrl, 'SELECT id FROM documents')).length };
        if (now.objects === before.objects) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect({ objects: (await objectKeys(t.s3)).length, rows: (await sql(t.databaseUrl, 'SELECT id FROM documents')).length }).toEqual(before);
    });

    it('400 for a non-UTF-8 filename and 415 for a JSON body', async () => {
      const m = await multipartBuffer(Object.entries(base), { filename: Buffer.from([0x66, 0xff, 0x2e, 0x74]), content: Buffer.from('x') });
      await request(t.http).post('/api/v1/documents').set(auth(alice)).set('Content-Type', m.contentType).send(m.body).expect(400);
      await request(t.http).post('/api/v1/documents').set(auth(alice)).send({ title: 'x' }).expect(415);
    });
  });

  describe('integrity', () => {
    it('aborts the response when the stored object was altered and records integrity.failed', async () => {
      const plain = randomBytes(1.5 * 1024 * 1024);
      const { body: doc } = await upload(alice, { ...base, title: 'Tamper' }, plain).expect(201);
      const [key] = (await objectKeys(t.s3)).filter((k) => k.includes(doc.id));
      const raw = await readObject(t.s3, key);
      raw[raw.length - 100] ^= 0x01; // in the final chunk
      await minio(t.s3).putObject(t.s3.bucket, key, raw);
      const outcome = await request(t.http).get(`/api/v1/documents/${doc.id}/content`).set(auth(alice)).buffer(true).parse((r, cb) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => cb(null, Buffer.concat(parts)));
        r.on('error', (e) => cb(e, null));
      }).then((res) => ({ ok: true, length: (res.body as Buffer).length }), (err: unknown) => ({ ok: false, err }));
      // Either the connection is cut, or the body is shorter than announced: never the full, unverified content.
      if (outcome.ok) expect((outcome as { length: number }).length).toBeLessThan(plain.length);
      await new Promise((r) => setTimeout(r, 200));
      const failed = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'integrity.failed'", [doc.id]);
      expect(failed).toHaveLength(1);
    });
  });
});
