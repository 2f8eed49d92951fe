import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { sql } from './support/documents';

jest.setTimeout(120_000);

const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

describe('HTTP hardening (e2e)', () => {
  let t: TestApp;
  let mio: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    mio = await createUser(t.http, admin, { username: 'mio', roles: ['staff'], clearance: 'SECRET', departments: ['finance'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const upload = (title: string, filename: string, content = Buffer.from('hello')) =>
    request(t.http).post('/api/v1/documents').set(auth(mio)).field('title', title).field('kind', 'record').field('classification', 'CONFIDENTIAL').field('department', 'finance').attach('file', content, filename);
  const documentCount = async () => (await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM documents'))[0].n;

  describe('bidi controls in names', () => {
    // U+202E makes `invoice_fdp.exe` display as `invoice_exe.pdf`; the isolates and marks do the same.
    const CONTROLS = ['\u202e', '\u202a', '\u202b', '\u202c', '\u202d', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];

    it.each(CONTROLS.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))('refuses %s in a filename with 400 and stores nothing', async (_name, c) => {
      const before = await documentCount();
      const res = await upload('Invoice', `invoice_${c}fdp.exe`).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'file' })]);
      expect(await documentCount()).toBe(before);
    });

    it.each(CONTROLS.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))('refuses %s in a title on create and on PATCH', async (_name, c) => {
      const before = await documentCount();
      const res = await upload(`Budget ${c}2026`, 'budget.txt').expect(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'title' })]);
      expect(await documentCount()).toBe(before);

      const { body } = await upload('Budget 2026', 'budget.txt').expect(201);
      const patched = await request(t.http).patch(`/api/v1/documents/${body.id}`).set(auth(mio)).send({ title: `Budget ${c}2026` }).expect(400);
      expect(patched.body.errors).toEqual([expect.objectContaining({ field: 'title' })]);
      const [row] = await sql<{ title: string }>(t.databaseUrl, 'SELECT title FROM documents WHERE id = $1', [body.id]);
      expect(row.title).toBe('Budget 2026');
    });
  });

  describe('security headers', () => {
    let id: string;
    beforeAll(async () => {
      id = (await upload('Headers', 'h.html', Buffer.from('<script>alert(1)</script>')).expect(201)).body.id;
    });

    it('content responses carry a sandboxing Content-Security-Policy', async () => {
      const res = await request(t.http).get(`/api/v1/documents/${id}/content`).set(auth(mio)).expect(200);
      expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it.each([
      ['a document', () => `/api/v1/documents/${id}`],
      ['the document list', () => '/api/v1/documents'],
      ['the versions', () => `/api/v1/documents/${id}/versions`],
      ['the access history', () => `/api/v1/documents/${id}/access-history`],
      ['the caller', () => '/api/v1/auth/me'],
    ])('JSON holding classified metadata (%s) is never cached', async (_what, url) => {
      const res = await request(t.http).get(url()).set(auth(mio)).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('errors are not cached either', async () => {
      const res = await request(t.http).get('/api/v1/documents/00000000-0000-4000-8000-000000000000').set(auth(mio)).expect(404);
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });

  describe('unknown API paths', () => {
    it.each(['/api/etc', '/api/v1/nope', '/api/v2/documents', '/api', '/api/v1'])('%s answers problem+json 404', async (url) => {
      const res = await request(t.http).get(url).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404, type: 'urn:kura:problem:not-found' });
      expect(res.text).not.toMatch(/<html|<pre>|Cannot GET/i);
    });

    it('a POST to an unknown API path is problem+json too', async () => {
      const res = await request(t.http).post('/api/etc/deeper').send({ a: 1 }).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });
});
