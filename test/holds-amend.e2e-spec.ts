import { Client } from 'pg';
import request from 'supertest';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { driveTo } from './support/documents';
import { insertDocument, sql } from './support/retention-context';

/**
 * `PATCH /holds/:id` amends an active legal hold: its name and reason, documents added
 * (checked like placing a hold) and removed (released through the documents lifecycle:
 * back to `active` only when no other hold holds them). Audited with old and new values.
 */
describe('legal hold amendment', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let officer: TestUser;
  let staff: TestUser;
  let store: ObjectStore;
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });
  const doc = async (o: { personalData?: string } = {}) => (await insertDocument(t.databaseUrl, store, { title: 'held', seriesId: null, createdAt: t.clock.now(), ...o })).id;
  const status = async (id: string) => (await sql<{ status: string }>(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [id]))[0].status;
  const members = async (holdId: string) => (await sql<{ id: string }>(t.databaseUrl, `SELECT document_id AS id FROM legal_hold_documents WHERE hold_id = $1 AND released_at IS NULL ORDER BY document_id`, [holdId])).map((r) => r.id);
  const place = async (documentIds: string[], name = 'Tribunal 2033') => (await request(t.http).post('/api/v1/holds').set(as(officer)).send({ name, reason: 'labour dispute', documentIds }).expect(201)).body as { id: string };

  beforeAll(async () => {
    t = await startTestApp();
    store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    officer = await createUser(t.http, admin, { username: 'officer-amend', roles: ['records_officer'], clearance: 'SECRET' });
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('renames, adds and removes; a removed document is active again only when no other hold holds it; audited old/new', async () => {
    const [d1, d2, d3] = [await doc(), await doc(), await doc()];
    const hold = await place([d1, d2]);
    const other = await place([d2], 'Tax audit');
    const res = await request(t.http)
      .patch(`/api/v1/holds/${hold.id}`)
      .set(as(officer))
      .send({ name: 'Tribunal 2033 (amended)', reason: 'labour dispute, second claim', addDocumentIds: [d3], removeDocumentIds: [d1, d2] })
      .expect(200);
    expect(res.body).toMatchObject({ id: hold.id, name: 'Tribunal 2033 (amended)', reason: 'labour dispute, second claim', active: true, documentIds: [d3], withheldDocuments: 0 });
    expect(await members(hold.id)).toEqual([d3]);
    expect(await members(other.id)).toEqual([d2]);
    expect([await status(d1), await status(d2), await status(d3)]).toEqual(['active', 'on_hold', 'on_hold']);

    const events = await sql<{ action: string; target_id: string; outcome: string; details: Record<string, unknown> }>(
      t.databaseUrl,
      `SELECT action, target_id, outcome, details FROM audit_events WHERE (target_id = $1 AND action = 'hold.amend') OR (details->>'holdId' = $1 AND action LIKE 'document.hold%') ORDER BY seq`,
      [hold.id],
    );
    const amend = events.find((e) => e.action === 'hold.amend')!;
    expect(amend).toMatchObject({
      outcome: 'allowed',
      details: {
        before: { name: 'Tribunal 2033', reason: 'labour dispute' },
        after: { name: 'Tribunal 2033 (amended)', reason: 'labour dispute, second claim' },
        added: [d3],
        removed: [d1, d2].sort(),
      },
    });
    const perDocument = events.filter((e) => e.action !== 'hold.amend').map((e) => [e.action, e.target_id, e.details.stillHeld ?? null]);
    expect(perDocument).toEqual(
      expect.arrayContaining([
        ['document.hold', d3, null],
        ['document.hold.release', d1, false],
        ['document.hold.release', d2, true],
      ]),
    );

    // Only the name: the documents stay as they are.
    const renamed = await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(officer)).send({ name: 'Tribunal 2033/2' }).expect(200);
    expect(renamed.body).toMatchObject({ name: 'Tribunal 2033/2', reason: 'labour dispute, second claim', documentIds: [d3] });
  });

  it('keeps a removed document in the hold register as released (when, by whom); it no longer blocks disposition; it can be added again', async () => {
    const YEAR = 365 * 86_400_000;
    const series = await request(t.http)
      .post('/api/v1/retention/series')
      .set(as(officer))
      .send({ code: 'HOLD-REG-7', name: '帳簿', years: 7, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: '法人税法施行規則 第59条' })
      .expect(201);
    const due = (await insertDocument(t.databaseUrl, store, { title: 'due', seriesId: series.body.id as string, createdAt: new Date(t.clock.now().getTime() - 8 * YEAR) })).id;
    const [kept, secret] = [await doc(), await doc({ personalData: 'specific' })];
    const admin = await loginAdmin(t.http);
    const handler = await createUser(t.http, admin, { username: 'handler-register', roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    const hold = (await request(t.http).post('/api/v1/holds').set(as(handler)).send({ name: 'register', reason: 'r', documentIds: [due, kept, secret] }).expect(201)).body as { id: string };
    const dueIds = async () =>
      ((await request(t.http).get('/api/v1/disposition/due?pageSize=500').set(as(officer)).expect(200)).body.items as Array<{ documentId: string }>).map((i) => i.documentId);
    const listed = async (u: TestUser) => ((await request(t.http).get('/api/v1/holds').set(as(u)).expect(200)).body.items as Array<{ id: string }>).find((h) => h.id === hold.id);
    expect(await dueIds()).not.toContain(due);
    const shorten = () => request(t.http).patch(`/api/v1/retention/series/${series.body.id as string}`).set(as(officer)).send({ years: 6 });
    expect((await shorten()).status).toBe(409);

    const from = t.clock.now().getTime();
    const res = await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(officer)).send({ removeDocumentIds: [due] }).expect(200);
    const to = t.clock.now().getTime();
    expect(res.body).toMatchObject({ documentIds: [kept], withheldDocuments: 1, releasedDocuments: [{ documentId: due, releasedAt: expect.any(String), releasedBy: 'officer-amend' }], withheldReleasedDocuments: 0 });
    const releasedAt = Date.parse((res.body as { releasedDocuments: Array<{ releasedAt: string }> }).releasedDocuments[0].releasedAt);
    expect(releasedAt).toBeGreaterThanOrEqual(from);
    expect(releasedAt).toBeLessThanOrEqual(to);
    // The register keeps the row; the hold no longer holds the document.
    expect(await sql(t.databaseUrl, `SELECT released_by_name FROM legal_hold_documents WHERE hold_id = $1 AND document_id = $2`, [hold.id, due])).toEqual([{ released_by_name: 'officer-amend' }]);
    expect(await members(hold.id)).toEqual([kept, secret].sort());
    expect(await status(due)).toBe('active');
    expect(await dueIds()).toContain(due);
    // Nor does it keep its series' retention from being shortened any more.
    expect((await shorten()).status).toBe(200);
    expect(await listed(officer)).toMatchObject({ documentIds: [kept], releasedDocuments: [{ documentId: due, releasedBy: 'officer-amend' }] });

    // A released document the reader may not see is only counted, like a held one.
    await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(handler)).send({ removeDocumentIds: [secret] }).expect(200);
    const redacted = await listed(officer);
    expect(redacted).toMatchObject({ documentIds: [kept], withheldDocuments: 0, releasedDocuments: [{ documentId: due }], withheldReleasedDocuments: 1 });
    expect(JSON.stringify(redacted)).not.toContain(secret);
    expect(((await listed(handler)) as unknown as { releasedDocuments: Array<{ documentId: string }> }).releasedDocuments.map((r) => r.documentId)).toEqual([due, secret]);

    // Added again: held again, and the register still shows the earlier release.
    const again = await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(officer)).send({ addDocumentIds: [due] }).expect(200);
    expect(again.body).toMatchObject({ documentIds: [due, kept].sort(), releasedDocuments: [{ documentId: due }] });
    expect(await status(due)).toBe('on_hold');
    expect(await dueIds()).not.toContain(due);
    const twice = await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(officer)).send({ removeDocumentIds: [due] }).expect(200);
    expect((twice.body as { releasedDocuments: Array<{ documentId: string }> }).releasedDocuments.map((r) => r.documentId)).toEqual([due, due]);
    expect(await status(due)).toBe('active');
  });

  it('refuses and changes nothing: staff, a released hold, a missing hold, bad bodies, hidden or destroyed documents, stale lists', async () => {
    const [d1, d2, free] = [await doc(), await doc(), await doc()];
    const secret = await doc({ personalData: 'specific' });
    const gone = await doc();
    await driveTo({ query: (text: string, params?: unknown[]) => sql(t.databaseUrl, text, params) }, gone, 'destroyed');
    const hold = await place([d1, d2]);
    const released = await place([free], 'done');
    await request(t.http).post(`/api/v1/holds/${released.id}/release`).set(as(officer)).expect(200);
    const missing = '5b0c8f0e-9a3e-4d5f-8a1b-2c3d4e5f6a7b';

    const snapshot = async () => ({
      holds: await sql(t.databaseUrl, `SELECT id, name, reason, released_at FROM legal_holds ORDER BY id`),
      members: await sql(t.databaseUrl, `SELECT hold_id, document_id FROM legal_hold_documents ORDER BY hold_id, document_id`),
      statuses: await sql(t.databaseUrl, `SELECT id, status FROM documents ORDER BY id`),
      amended: (await sql<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE action = 'hold.amend' AND outcome = 'allowed'`))[0].n,
    });
    const before = await snapshot();
    const url = `/api/v1/holds/${hold.id}`;
    const cases: Array<[string, TestUser, string, object, number]> = [
      ['staff', staff, url, { name: 'x' }, 403],
      ['released', officer, `/api/v1/holds/${released.id}`, { name: 'x' }, 409],
      ['missing', officer, `/api/v1/holds/${missing}`, { name: 'x' }, 404],
      ['not a uuid', officer, '/api/v1/holds/nope', { name: 'x' }, 400],
      ['empty body', officer, url, {}, 400],
      ['empty name', officer, url, { name: '' }, 400],
      ['unknown field', officer, url, { name: 'x', documentIds: [free] }, 400],
      ['bad id', officer, url, { addDocumentIds: ['nope'] }, 400],
      ['empty add', officer, url, { addDocumentIds: [] }, 400],
      ['add and remove the same', officer, url, { addDocumentIds: [free], removeDocumentIds: [free] }, 400],
      ['add a missing document', officer, url, { addDocumentIds: [missing] }, 404],
      // A `specific` document the officer may not see answers exactly like a missing one.
      ['add a hidden document', officer, url, { addDocumentIds: [secret] }, 404],
      ['add a destroyed document', officer, url, { addDocumentIds: [gone] }, 409],
      ['add a document already on the hold', officer, url, { addDocumentIds: [d1] }, 409],
      ['remove a document not on the hold', officer, url, { removeDocumentIds: [free] }, 409],
      ['remove every document', officer, url, { removeDocumentIds: [d1, d2] }, 409],
      // Valid parts do not go through when another part fails.
      ['rename with a bad add', officer, url, { name: 'renamed', addDocumentIds: [missing] }, 404],
    ];
    for (const [label, user, path, body, expected] of cases) {
      const res = await request(t.http).patch(path).set(as(user)).send(body);
      expect({ label, status: res.status }).toEqual({ label, status: expected });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      // The hidden document is named back only where the caller named it, exactly as a missing one would be.
      if (label === 'add a hidden document') expect(res.body).toMatchObject({ detail: 'Some documents do not exist.', documentIds: [secret] });
      else expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    expect(await snapshot()).toEqual(before);

    const denied = await sql<{ outcome: string; details: { reason: string } }>(
      t.databaseUrl,
      `SELECT outcome, details FROM audit_events WHERE action = 'hold.amend' AND target_id = $1 AND outcome = 'denied'`,
      [secret],
    );
    expect(denied).toEqual([expect.objectContaining({ outcome: 'denied', details: expect.objectContaining({ reason: 'not-visible' }) })]);
    expect(await sql(t.databaseUrl, `SELECT details->>'route' AS route FROM audit_events WHERE action = 'access.denied' AND actor_id = $1`, [staff.id])).toEqual([{ route: expect.stringMatching(/^PATCH /) }]);
  });

  it('an amendment and a release racing over a shared document leave it active, whichever commits first', async () => {
    const shared = await doc();
    const [h1, h2] = [await place([shared, await doc()], 'race one'), await place([shared], 'race two')];
    // A connection of our own holds the document's row: both requests queue behind it, then run one after the other.
    const blocker = new Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      const [{ pid }] = (await blocker.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows;
      await blocker.query(`SELECT id FROM documents WHERE id = $1 FOR UPDATE`, [shared]);
      const amending = request(t.http).patch(`/api/v1/holds/${h1.id}`).set(as(officer)).send({ removeDocumentIds: [shared] }).then((r) => r);
      const releasing = request(t.http).post(`/api/v1/holds/${h2.id}/release`).set(as(officer)).then((r) => r);
      const waiting = async () =>
        (await sql<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND pid <> $1`, [pid]))[0].n;
      for (let i = 0; (await waiting()) < 2; i++) {
        if (i > 2_000) throw new Error('the two requests never queued behind the row lock');
        await new Promise((r) => setTimeout(r, 5));
      }
      await blocker.query('COMMIT');
      const [a, r] = await Promise.all([amending, releasing]);
      expect([a.status, r.status]).toEqual([200, 200]);
    } finally {
      await blocker.end();
    }
    expect(await status(shared)).toBe('active');
    expect(await members(h1.id)).not.toContain(shared);
  });

  it('never shows a hidden document already on the hold to an officer who may not see it', async () => {
    const admin = await loginAdmin(t.http);
    const handler = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    const [open, secret] = [await doc(), await doc({ personalData: 'specific' })];
    const hold = (await request(t.http).post('/api/v1/holds').set(as(handler)).send({ name: 'mixed', reason: 'r', documentIds: [open, secret] }).expect(201)).body as { id: string };
    const added = await doc();
    const res = await request(t.http).patch(`/api/v1/holds/${hold.id}`).set(as(officer)).send({ addDocumentIds: [added] }).expect(200);
    expect(res.body).toMatchObject({ documentIds: [open, added].sort(), withheldDocuments: 1 });
    expect(JSON.stringify(res.body)).not.toContain(secret);
    expect(await members(hold.id)).toEqual([open, secret, added].sort());
  });
});
