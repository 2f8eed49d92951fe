import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { auditEvents } from './support/documents';

jest.setTimeout(120_000);

/** Errors at the edges of the API: wrong method, wrong media type, malformed headers, and the reader's language. */
describe('HTTP edges', () => {
  let t: TestApp;
  let admin: string;
  let staff: TestUser;
  let auditor: TestUser;
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

  beforeAll(async () => {
    t = await startTestApp();
    admin = await loginAdmin(t.http);
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['finance'] });
    auditor = await createUser(t.http, admin, { roles: ['auditor'], clearance: 'SECRET', departments: ['finance'] });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('405 Method Not Allowed', () => {
    it('answers a wrong method on a known path with 405, Allow and problem+json', async () => {
      const res = await request(t.http).put('/api/v1/auth/login').send({});
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 405, title: 'Method Not Allowed', type: 'urn:kura:problem:method-not-allowed' });
      const doc = await request(t.http).delete(`/api/v1/documents/${randomUUID()}`).set('Authorization', `Bearer ${staff.token}`);
      expect(doc.status).toBe(405);
      expect(doc.headers.allow!.split(', ').sort()).toEqual(['GET', 'HEAD', 'PATCH']);
    });

    it('still answers 404 for a path no method serves', async () => {
      expect((await request(t.http).get('/api/v1/no-such-thing').set('Authorization', `Bearer ${staff.token}`)).status).toBe(404);
    });
  });

  describe('415 Unsupported Media Type', () => {
    it('refuses a text/plain body on a JSON route, before anything runs', async () => {
      const before = (await auditEvents(t.databaseUrl, "action = 'auth.login'")).length;
      const res = await request(t.http).post('/api/v1/auth/login').set('Content-Type', 'text/plain').send('username=admin&password=x');
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ status: 415, detail: expect.stringMatching(/application\/json/) });
      expect(res.body.errors).toBeUndefined();
      expect((await auditEvents(t.databaseUrl, "action = 'auth.login'")).length).toBe(before);
    });

    it('refuses JSON on a multipart route, and accepts JSON with a charset', async () => {
      const res = await request(t.http).post('/api/v1/documents').set('Authorization', `Bearer ${staff.token}`).send({ title: 'x' });
      expect(res.status).toBe(415);
      expect(res.body.detail).toMatch(/multipart\/form-data/);
      const ok = await request(t.http).post('/api/v1/auth/login').set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ username: 'nobody', password: 'wrong-password' }));
      expect(ok.status).toBe(401);
    });
  });

  describe('If-Match', () => {
    it('answers an unquoted entity tag with a clear 400, not a misleading 412', async () => {
      const res = await request(t.http)
        .post(`/api/v1/documents/${randomUUID()}/versions`)
        .set('Authorization', `Bearer ${staff.token}`)
        .set('If-Match', 'v1')
        .attach('file', Buffer.from('x'), 'x.txt');
      expect(res.status).toBe(400);
      expect(res.body.detail).toBe('If-Match must be "*" or quoted entity tags as sent in ETag, e.g. If-Match: "v3".');
    });
  });

  describe('validation', () => {
    it('gives one message per failing field', async () => {
      const res = await request(t.http).post('/api/v1/auth/login').send({});
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'username', messages: ['username is required'] },
        { field: 'password', messages: ['password is required'] },
      ]);
      const bad = await request(t.http).post('/api/v1/auth/login').send({ username: 5, password: 'x' });
      for (const e of bad.body.errors as Array<{ messages: string[] }>) expect(e.messages).toHaveLength(1);
    });
  });

  describe('Japanese', () => {
    it('gives problem title and detail in Japanese when the request prefers ja, English otherwise', async () => {
      const ja = await request(t.http).post('/api/v1/auth/login').set('Accept-Language', 'ja,en;q=0.5').send({ username: 'nobody', password: 'wrong-password' });
      expect(ja.status).toBe(401);
      expect(ja.headers['content-language']).toBe('ja');
      expect(ja.body).toMatchObject({ title: '認証が必要です', detail: 'ユーザー名またはパスワードが正しくないか、アカウントが一時的にロックされています。' });
      const notFound = await request(t.http).get(`/api/v1/documents/${randomUUID()}`).set('Authorization', `Bearer ${staff.token}`).set('Accept-Language', 'ja-JP');
      expect(notFound.body).toMatchObject({ status: 404, title: '見つかりません', detail: expect.stringMatching(/存在しません/) });
      const en = await request(t.http).post('/api/v1/auth/login').set('Accept-Language', 'en-GB,ja;q=0.3').send({ username: 'nobody', password: 'wrong-password' });
      expect(en.body.title).toBe('Unauthorized');
      expect(en.headers['content-language']).toBe('en');
      const none = await request(t.http).put('/api/v1/auth/login');
      expect(none.body.title).toBe('Method Not Allowed');
    });
  });

  describe('CSV byte order mark', () => {
    const get = (path: string, token: string, lang?: string) => {
      const r = request(t.http).get(path).set('Authorization', `Bearer ${token}`).buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      return lang ? r.set('Accept-Language', lang) : r;
    };

    it('writes a BOM with bom=true, by default when the request prefers ja, and never otherwise', async () => {
      const plain = await get('/api/v1/reports/inventory?format=csv', auditor.token).expect(200);
      expect((plain.body as Buffer).subarray(0, 3).equals(BOM)).toBe(false);
      const asked = await get('/api/v1/reports/inventory?format=csv&bom=true', auditor.token).expect(200);
      expect((asked.body as Buffer).subarray(0, 3).equals(BOM)).toBe(true);
      expect((asked.body as Buffer).subarray(3).equals(plain.body as Buffer)).toBe(true);
      const ja = await get('/api/v1/reports/inventory?format=csv', auditor.token, 'ja').expect(200);
      expect((ja.body as Buffer).subarray(0, 3).equals(BOM)).toBe(true);
      const off = await get('/api/v1/reports/inventory?format=csv&bom=false', auditor.token, 'ja').expect(200);
      expect((off.body as Buffer).subarray(0, 3).equals(BOM)).toBe(false);
      await get('/api/v1/reports/inventory?format=csv&bom=maybe', auditor.token).expect(400);
    });

    it('the audit CSV export too', async () => {
      const ja = await get('/api/v1/audit/events?format=csv', auditor.token, 'ja').expect(200);
      expect((ja.body as Buffer).subarray(0, 3).equals(BOM)).toBe(true);
      expect((ja.body as Buffer).subarray(3, 10).toString()).toMatch(/^seq,/);
      const en = await get('/api/v1/audit/events?format=csv', auditor.token).expect(200);
      expect((en.body as Buffer).subarray(0, 3).equals(BOM)).toBe(false);
    });
  });
});
