import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { auditEvents, sql } from './support/documents';

jest.setTimeout(60_000);

const PROBLEM = /^application\/problem\+json/;
const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

/**
 * Purpose-bound access to specific personal information: every read, download, version list
 * and new version of a `specific` document names a permitted purpose (X-Purpose), or is
 * refused (400 none, 403 not permitted) and audited as denied; the purpose is in the chained event.
 */
describe('My Number purposes', () => {
  let t: TestApp;
  let officer: TestUser;
  let handler: TestUser;
  let staff: TestUser;
  let seriesId: string;
  let docId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
    handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
    for (const p of [
      { code: 'withholding-slip', nameJa: '源泉徴収票作成', nameEn: 'Withholding tax slips' },
      { code: 'social-insurance', nameJa: '社会保険手続', nameEn: 'Social insurance procedures' },
      { code: 'payment-report', nameJa: '支払調書作成', nameEn: 'Payment reports' },
    ]) {
      await request(t.http).post('/api/v1/mynumber/purposes').set(auth(officer)).send(p).expect(201);
    }
    const series = await request(t.http).post('/api/v1/retention/series').set(auth(officer))
      .send({ code: 'MN-PAYROLL', name: '扶養控除等申告書', years: 7, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: '所得税法施行規則 第76条の3' })
      .expect(201);
    seriesId = series.body.id;
    await request(t.http).put(`/api/v1/mynumber/series/${seriesId}/purposes`).set(auth(officer)).send({ purposes: ['withholding-slip', 'social-insurance'] }).expect(200);
    const doc = await upload(handler, { seriesId }).expect(201);
    docId = doc.body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  function upload(u: TestUser, extra: Record<string, string> = {}) {
    let req = request(t.http).post('/api/v1/documents').set(auth(u))
      .field('title', '扶養控除等申告書 2026').field('kind', 'record').field('classification', 'SECRET')
      .field('department', 'hr').field('personalData', extra.personalData ?? 'specific');
    if (extra.seriesId) req = req.field('seriesId', extra.seriesId);
    return req.attach('file', randomBytes(64), 'form.bin');
  }

  const events = (action: string) => auditEvents(t.databaseUrl, 'target_id = $1 AND action = $2', [docId, action]);

  it('keeps a purposes list that records officers manage, with Japanese and English names', async () => {
    const list = await request(t.http).get('/api/v1/mynumber/purposes').set(auth(handler)).expect(200);
    expect(list.body.items).toEqual(expect.arrayContaining([{ code: 'withholding-slip', nameJa: '源泉徴収票作成', nameEn: 'Withholding tax slips', retired: false }]));
    await request(t.http).post('/api/v1/mynumber/purposes').set(auth(handler)).send({ code: 'marketing', nameJa: '販促', nameEn: 'Marketing' }).expect(403);
    const dup = await request(t.http).post('/api/v1/mynumber/purposes').set(auth(officer)).send({ code: 'payment-report', nameJa: 'x', nameEn: 'x' }).expect(409);
    expect(dup.headers['content-type']).toMatch(PROBLEM);
    await request(t.http).post('/api/v1/mynumber/purposes').set(auth(officer)).send({ code: '源泉', nameJa: 'x', nameEn: 'x' }).expect(400);
    await request(t.http).put(`/api/v1/mynumber/series/${seriesId}/purposes`).set(auth(officer)).send({ purposes: ['no-such-purpose'] }).expect(400);
    expect((await request(t.http).get(`/api/v1/mynumber/series/${seriesId}/purposes`).set(auth(officer)).expect(200)).body.purposes).toEqual(['social-insurance', 'withholding-slip']);
  });

  it('refuses a read without a purpose: 400 problem+json, audited denied, nothing read', async () => {
    const res = await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.detail).toMatch(/X-Purpose/);
    expect(res.body.title).toBeDefined();
    expect(await events('document.read')).toEqual([expect.objectContaining({ outcome: 'denied', actor_id: handler.id, details: { reason: 'purpose-missing' } })]);
    const [row] = await sql<{ last_accessed_at: Date | null }>(t.databaseUrl, 'SELECT last_accessed_at FROM documents WHERE id = $1', [docId]);
    expect(row.last_accessed_at).toBeNull();
  });

  it('refuses a purpose the document does not permit: 403 problem+json, audited denied with that purpose', async () => {
    const res = await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'payment-report').expect(403);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.permittedPurposes).toEqual(['social-insurance', 'withholding-slip']);
    expect((await events('document.read')).at(-1)).toMatchObject({ outcome: 'denied', details: { reason: 'purpose-not-permitted', purpose: 'payment-report' } });
    // A Japanese name sent raw is not a purpose code (header values are not UTF-8): 400.
    const raw = await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', Buffer.from('源泉徴収票作成', 'utf8').toString('latin1')).expect(400);
    expect(raw.body.detail).toMatch(/purpose code/);
    expect((await events('document.read')).filter((e) => e.outcome === 'allowed')).toEqual([]);
  });

  it('reads, lists versions, downloads and adds a version with a permitted purpose, which goes into the chained event', async () => {
    await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'withholding-slip').expect(200);
    await request(t.http).get(`/api/v1/documents/${docId}/versions`).set(auth(handler)).expect(400);
    await request(t.http).get(`/api/v1/documents/${docId}/versions`).set(auth(handler)).set('X-Purpose', 'social-insurance').expect(200);
    await request(t.http).get(`/api/v1/documents/${docId}/content`).set(auth(handler)).expect(400);
    await request(t.http).get(`/api/v1/documents/${docId}/content`).set(auth(handler)).set('X-Purpose', 'withholding-slip').expect(200);
    const noPurpose = await request(t.http).post(`/api/v1/documents/${docId}/versions`).set(auth(handler)).set('If-Match', '"v1"').attach('file', randomBytes(32), 'v2.bin').expect(400);
    expect(noPurpose.headers['content-type']).toMatch(PROBLEM);
    const [{ n }] = await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM document_versions WHERE document_id = $1', [docId]);
    expect(n).toBe(1);
    await request(t.http).post(`/api/v1/documents/${docId}/versions`).set(auth(handler)).set('If-Match', '"v1"').set('X-Purpose', 'withholding-slip').attach('file', randomBytes(32), 'v2.bin').expect(201);
    await request(t.http).post(`/api/v1/documents/${docId}/versions/1/restore`).set(auth(handler)).expect(400);
    await request(t.http).post(`/api/v1/documents/${docId}/versions/1/restore`).set(auth(handler)).set('X-Purpose', 'payment-report').expect(403);

    expect((await events('document.read')).filter((e) => e.outcome === 'allowed').map((e) => e.details)).toEqual([
      { version: 1, purpose: 'withholding-slip' },
      { view: 'versions', purpose: 'social-insurance' },
    ]);
    expect((await events('document.download')).map((e) => [e.outcome, e.details.purpose ?? e.details.reason])).toEqual([['denied', 'purpose-missing'], ['allowed', 'withholding-slip']]);
    expect((await events('document.version')).map((e) => [e.outcome, e.details.purpose ?? e.details.reason])).toEqual([['denied', 'purpose-missing'], ['allowed', 'withholding-slip']]);
    expect((await events('document.restore')).map((e) => [e.outcome, e.details.reason])).toEqual([['denied', 'purpose-missing'], ['denied', 'purpose-not-permitted']]);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });

  it("a document's own purposes replace its series' defaults; only who may update it sets them", async () => {
    await request(t.http).put(`/api/v1/mynumber/documents/${docId}/purposes`).set(auth(staff)).send({ purposes: ['payment-report'] }).expect(404);
    await request(t.http).put(`/api/v1/mynumber/documents/${docId}/purposes`).set(auth(officer)).send({ purposes: ['payment-report'] }).expect(404);
    const set = await request(t.http).put(`/api/v1/mynumber/documents/${docId}/purposes`).set(auth(handler)).send({ purposes: ['payment-report'] }).expect(200);
    expect(set.body).toEqual({ documentId: docId, purposes: ['payment-report'] });
    await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'withholding-slip').expect(403);
    await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'payment-report').expect(200);
    expect(await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'mynumber.document.purposes'", [docId])).toEqual([
      expect.objectContaining({ outcome: 'denied', actor_id: staff.id }),
      expect.objectContaining({ outcome: 'denied', actor_id: officer.id }),
      expect.objectContaining({ outcome: 'allowed', actor_id: handler.id, details: { purposes: ['payment-report'] } }),
    ]);
  });

  it('a retired purpose permits nothing from then on but stays in the list', async () => {
    await request(t.http).post('/api/v1/mynumber/purposes').set(auth(officer)).send({ code: 'year-end-2025', nameJa: '2025年分年末調整', nameEn: 'Year-end adjustment 2025' }).expect(201);
    await request(t.http).put(`/api/v1/mynumber/documents/${docId}/purposes`).set(auth(handler)).send({ purposes: ['payment-report', 'year-end-2025'] }).expect(200);
    await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'year-end-2025').expect(200);
    await request(t.http).post('/api/v1/mynumber/purposes/year-end-2025/retire').set(auth(handler)).expect(403);
    await request(t.http).post('/api/v1/mynumber/purposes/year-end-2025/retire').set(auth(officer)).expect(200);
    await request(t.http).post('/api/v1/mynumber/purposes/year-end-2025/retire').set(auth(officer)).expect(404);
    await request(t.http).get(`/api/v1/documents/${docId}`).set(auth(handler)).set('X-Purpose', 'year-end-2025').expect(403);
    const list = await request(t.http).get('/api/v1/mynumber/purposes').set(auth(handler)).expect(200);
    expect(list.body.items).toContainEqual({ code: 'year-end-2025', nameJa: '2025年分年末調整', nameEn: 'Year-end adjustment 2025', retired: true });
    await request(t.http).put(`/api/v1/mynumber/documents/${docId}/purposes`).set(auth(handler)).send({ purposes: ['year-end-2025'] }).expect(400);
  });

  it('denies by default: a specific document with no purposes anywhere cannot be read for any purpose', async () => {
    const orphan = (await upload(handler).expect(201)).body.id;
    const res = await request(t.http).get(`/api/v1/documents/${orphan}`).set(auth(handler)).set('X-Purpose', 'withholding-slip').expect(403);
    expect(res.body.permittedPurposes).toEqual([]);
  });

  it('leaves documents not marked specific alone', async () => {
    const plain = (await upload(handler, { personalData: 'none' }).expect(201)).body.id;
    await request(t.http).get(`/api/v1/documents/${plain}`).set(auth(staff)).expect(200);
    const [read] = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.read'", [plain]);
    expect(read.details).toEqual({ version: 1 });
  });
});
