import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { auditEvents, driveTo, sql } from './support/documents';

jest.setTimeout(120_000);

const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * PATCH /documents/:id (issue 9, findings 5 and 6): the series is the records officers'
 * field; every change is audited with its old and new values; a PATCH that changes nothing
 * needs the same rights, writes nothing and still leaves a trace; pending and destroyed
 * documents cannot be retitled.
 */
describe('document metadata', () => {
  let t: TestApp;
  let clerk: TestUser; // staff, hr, CONFIDENTIAL
  let reader: TestUser; // staff of another department: reads PUBLIC documents only
  let handler: TestUser; // My Number handler, hr
  let officer: TestUser;
  let seriesA: string;
  let seriesB: string;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
    reader = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['sales'] });
    handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' });
    const series = (code: string, years: number) =>
      request(t.http).post('/api/v1/retention/series').set(auth(officer)).send({ code, name: code, years, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: 'test' }).expect(201);
    seriesA = (await series('META-10Y', 10)).body.id;
    seriesB = (await series('META-1Y', 1)).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  async function upload(u: TestUser, fields: Record<string, string>): Promise<{ id: string; updatedAt: string }> {
    let req = request(t.http).post('/api/v1/documents').set(auth(u));
    for (const [k, v] of Object.entries({ kind: 'record', classification: 'INTERNAL', department: 'hr', ...fields })) req = req.field(k, v);
    const res = await req.attach('file', randomBytes(64), 'f.bin').expect(201);
    return res.body;
  }
  const row = (id: string) => sql<{ title: string; series_id: string | null; updated_at: Date; tags: string[] }>(t.databaseUrl, `SELECT title, series_id, updated_at, tags FROM documents WHERE id = $1`, [id]);

  it('staff may not move a record out of its retention schedule: 403 problem+json, audited, nothing written', async () => {
    const doc = await upload(clerk, { title: 'Payroll 2026', seriesId: seriesA });
    const before = await row(doc.id);
    for (const seriesId of [null, seriesB]) {
      const res = await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(clerk)).send({ seriesId }).expect(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      // A title change riding along is refused with it.
      await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(clerk)).send({ title: 'Renamed', seriesId }).expect(403);
    }
    expect(await row(doc.id)).toEqual(before);
    const denied = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.update' AND outcome = 'denied'", [doc.id]);
    expect(denied).toHaveLength(4);
    expect(denied[0].details).toMatchObject({ fields: ['seriesId'] });
    expect(await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.update' AND outcome = 'allowed'", [doc.id])).toEqual([]);
  });

  it('a records officer assigns the series; every change is audited with its old and new value', async () => {
    const doc = await upload(clerk, { title: 'Roster', seriesId: seriesA });
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(officer)).send({ seriesId: seriesB }).expect(200);
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(officer)).send({ seriesId: null }).expect(200);
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(clerk)).send({ title: 'Roster 2026', tags: ['b', 'a'], reviewDueAt: '2031-04-01T00:00:00Z' }).expect(200);
    const changes = (await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.update'", [doc.id])).map((e) => [e.outcome, e.details.changes]);
    expect(changes).toEqual([
      ['allowed', { seriesId: { from: seriesA, to: seriesB } }],
      ['allowed', { seriesId: { from: seriesB, to: null } }],
      ['allowed', { title: { from: 'Roster', to: 'Roster 2026' }, tags: { from: [], to: ['b', 'a'] }, reviewDueAt: { from: null, to: '2031-04-01T00:00:00.000Z' } }],
    ]);
  });

  it('the title of a `specific` document is audited as its SHA-256, never as text', async () => {
    const doc = await upload(handler, { title: 'マイナンバー台帳 山田', personalData: 'specific', classification: 'SECRET' });
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(handler)).send({ title: 'マイナンバー台帳 佐藤' }).expect(200);
    const [event] = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.update'", [doc.id]);
    expect(event.details.changes).toEqual({ title: { fromSha256: sha256('マイナンバー台帳 山田'), toSha256: sha256('マイナンバー台帳 佐藤') } });
    expect(JSON.stringify(await auditEvents(t.databaseUrl, 'target_id = $1', [doc.id]))).not.toMatch(/山田|佐藤/);
  });

  it('a PATCH that changes nothing needs the same rights, writes nothing and is audited', async () => {
    const doc = await upload(clerk, { title: 'Public notice', classification: 'PUBLIC' });
    const before = await row(doc.id);
    // Read access alone (another department's PUBLIC document) does not pass, even when nothing would change.
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(reader)).send({ classification: 'PUBLIC' }).expect(403);
    await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(reader)).send({ title: 'Public notice' }).expect(403);
    const same = await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(clerk)).send({ title: 'Public notice', classification: 'PUBLIC', tags: [] }).expect(200);
    expect(same.body.updatedAt).toBe(doc.updatedAt);
    expect(await row(doc.id)).toEqual(before);
    const events = (await auditEvents(t.databaseUrl, "target_id = $1 AND action IN ('document.update', 'document.reclassify')", [doc.id])).map((e) => [e.action, e.outcome, e.actor_id, e.details.changes ?? null]);
    expect(events).toEqual([
      ['document.reclassify', 'denied', reader.id, null],
      ['document.update', 'denied', reader.id, null],
      ['document.update', 'allowed', clerk.id, {}],
    ]);
  });

  it.each([
    ['pending_disposition', 409],
    ['destroyed', 410],
  ] as const)('a document %s cannot be retitled (%i), and nothing is written', async (status, code) => {
    const doc = await upload(clerk, { title: `Frozen ${status}` });
    await driveTo({ query: (text: string, params?: unknown[]) => sql(t.databaseUrl, text, params) }, doc.id, status);
    const before = await row(doc.id);
    const res = await request(t.http).patch(`/api/v1/documents/${doc.id}`).set(auth(clerk)).send({ title: 'Renamed' }).expect(code);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await row(doc.id)).toEqual(before);
    expect(await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.update' AND outcome = 'allowed'", [doc.id])).toEqual([]);
  });
});
