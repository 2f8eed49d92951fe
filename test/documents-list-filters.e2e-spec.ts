import request from 'supertest';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { insertDocument, sql } from './support/retention-context';

/**
 * `GET /documents?seriesId=&createdFrom=&createdTo=`: additive filters that go through the
 * same ABAC SQL as every list and page with the keyset cursor; bad values are a 400.
 */
describe('document list filters: series and creation date range', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let clerk: TestUser;
  let seriesA: string;
  let seriesB: string;
  const inA: Record<string, string> = {};
  let inB: string;
  let hiddenInA: string;
  let noSeries: string;
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

  beforeAll(async () => {
    t = await startTestApp();
    const store = t.app.get(ObjectStore);
    const admin = await loginAdmin(t.http);
    const officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' });
    clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
    const series = (code: string) =>
      request(t.http).post('/api/v1/retention/series').set(as(officer)).send({ code, name: code, years: 7, trigger: 'created', disposition: 'destroy', citation: 'test' }).expect(201);
    seriesA = (await series('FILTER-A')).body.id;
    seriesB = (await series('FILTER-B')).body.id;
    // Five documents of series A over five days (two at the same instant), one of B, one without a series.
    for (const at of ['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', '2026-03-03T09:30:00Z', '2026-03-03T09:30:00Z', '2026-03-04T23:59:59.999Z']) {
      const { id } = await insertDocument(t.databaseUrl, store, { title: `A ${at}`, seriesId: seriesA, createdAt: new Date(at) });
      inA[id] = at;
    }
    inB = (await insertDocument(t.databaseUrl, store, { title: 'B', seriesId: seriesB, createdAt: new Date('2026-03-02T12:00:00Z') })).id;
    noSeries = (await insertDocument(t.databaseUrl, store, { title: 'none', seriesId: null, createdAt: new Date('2026-03-02T12:00:00Z') })).id;
    // Same series and date, but another department: the clerk must never see it.
    hiddenInA = (await insertDocument(t.databaseUrl, store, { title: 'A legal', seriesId: seriesA, createdAt: new Date('2026-03-02T06:00:00Z') })).id;
    await sql(t.databaseUrl, `UPDATE documents SET department = 'legal' WHERE id = $1`, [hiddenInA]);
  });
  afterAll(async () => {
    await t.close();
  });

  const list = async (query: Record<string, string | number>) => (await request(t.http).get('/api/v1/documents').query(query).set(as(clerk)).expect(200)).body as { items: Array<{ id: string; seriesId: string | null }>; total: number; nextCursor: string | null };

  it('filters by series, within what the caller may see', async () => {
    const a = await list({ seriesId: seriesA });
    expect(a.items.map((d) => d.id).sort()).toEqual(Object.keys(inA).sort());
    expect(a.total).toBe(5);
    expect(a.items.every((d) => d.seriesId === seriesA)).toBe(true);
    expect((await list({ seriesId: seriesB })).items.map((d) => d.id)).toEqual([inB]);
    // A well-formed id of no series is an empty page, not an error.
    expect(await list({ seriesId: '5b0c8f0e-9a3e-4d5f-8a1b-2c3d4e5f6a7b' })).toMatchObject({ items: [], total: 0, nextCursor: null });
    const all = await list({ pageSize: 100 });
    expect(all.items.map((d) => d.id)).toEqual(expect.arrayContaining([noSeries, inB]));
    expect(all.items.map((d) => d.id)).not.toContain(hiddenInA);
  });

  it('filters by creation time: createdFrom inclusive, createdTo exclusive; a date alone is UTC midnight', async () => {
    const ids = async (q: Record<string, string>) => (await list({ seriesId: seriesA, pageSize: 100, ...q })).items.map((d) => inA[d.id]);
    expect(await ids({ createdFrom: '2026-03-02T00:00:00Z' })).toEqual(['2026-03-04T23:59:59.999Z', '2026-03-03T09:30:00Z', '2026-03-03T09:30:00Z', '2026-03-02T00:00:00Z']);
    expect(await ids({ createdTo: '2026-03-02T00:00:00Z' })).toEqual(['2026-03-01T00:00:00Z']);
    expect(await ids({ createdFrom: '2026-03-02', createdTo: '2026-03-04' })).toEqual(['2026-03-03T09:30:00Z', '2026-03-03T09:30:00Z', '2026-03-02T00:00:00Z']);
    // An offset is honoured: 2026-03-05T08:59:59+09:00 is 23:59:59 UTC on the 4th.
    expect(await ids({ createdFrom: '2026-03-04T09:00:00+09:00', createdTo: '2026-03-05T08:59:59+09:00' })).toEqual([]);
    expect(await ids({ createdFrom: '2026-03-04T09:00:00+09:00', createdTo: '2026-03-05T09:00:00+09:00' })).toEqual(['2026-03-04T23:59:59.999Z']);
    // Without a series the range still keeps to the caller's documents.
    const day2 = await list({ createdFrom: '2026-03-02', createdTo: '2026-03-03', pageSize: 100 });
    expect(day2.items.map((d) => d.id).sort()).toEqual([Object.keys(inA).find((id) => inA[id] === '2026-03-02T00:00:00Z'), inB, noSeries].sort());
  });

  it('filters by review date the same way: reviewDueFrom inclusive, reviewDueTo exclusive; no review date, no match', async () => {
    const [first, second] = Object.keys(inA).sort((x, y) => inA[x].localeCompare(inA[y]));
    await sql(t.databaseUrl, `UPDATE documents SET review_due_at = $2 WHERE id = $1`, [first, '2027-01-01T00:00:00Z']);
    await sql(t.databaseUrl, `UPDATE documents SET review_due_at = $2 WHERE id = $1`, [second, '2027-01-31T15:00:00Z']);
    await sql(t.databaseUrl, `UPDATE documents SET review_due_at = $2 WHERE id = $1`, [hiddenInA, '2027-01-15T00:00:00Z']);
    const ids = async (q: Record<string, string>) => (await list({ pageSize: 100, ...q })).items.map((d) => d.id).sort();
    expect(await ids({ reviewDueFrom: '2027-01-01', reviewDueTo: '2027-02-01' })).toEqual([first, second].sort());
    expect(await ids({ reviewDueFrom: '2027-01-01T00:00:00.001Z' })).toEqual([second]);
    expect(await ids({ reviewDueTo: '2027-01-31T15:00:00Z' })).toEqual([first]);
    // 2027-02-01T00:00+09:00 is 15:00 UTC on 31 January: exclusive.
    expect(await ids({ reviewDueFrom: '2027-01-02', reviewDueTo: '2027-02-01T00:00:00+09:00' })).toEqual([]);
    expect(await ids({ seriesId: seriesA, reviewDueFrom: '2027-01-01', createdFrom: '2026-03-02' })).toEqual([second]);
    const bad = await request(t.http).get('/api/v1/documents').query({ reviewDueFrom: '2027-02-01', reviewDueTo: '2027-01-01' }).set(as(clerk)).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['reviewDueFrom']);
    await request(t.http).get('/api/v1/documents').query({ reviewDueTo: 'soon' }).set(as(clerk)).expect(400);
  });

  it('walks a filtered list with the keyset cursor: every match once, ties included', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await list({ seriesId: seriesA, createdFrom: '2026-03-02', pageSize: 1, ...(after ? { after } : {}) });
      seen.push(...page.items.map((d) => d.id));
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect(seen.map((id) => inA[id])).toEqual(['2026-03-04T23:59:59.999Z', '2026-03-03T09:30:00Z', '2026-03-03T09:30:00Z', '2026-03-02T00:00:00Z']);
  });

  it('answers bad filters with problem+json 400 naming the field, and audits the filter it used', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ seriesId: 'not-a-uuid' }, 'seriesId'],
      [{ createdFrom: 'yesterday' }, 'createdFrom'],
      [{ createdTo: '2026-02-30' }, 'createdTo'],
      // A time without a zone would mean the server's local time: refused, not guessed.
      [{ createdFrom: '2026-03-01T00:00:00' }, 'createdFrom'],
      [{ createdFrom: '2026-03-04', createdTo: '2026-03-02' }, 'createdFrom'],
      [{ createdFrom: '2026-03-04', createdTo: '2026-03-04' }, 'createdFrom'],
    ];
    for (const [query, field] of cases) {
      const res = await request(t.http).get('/api/v1/documents').query(query).set(as(clerk));
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((res.body.errors as Array<{ field: string }>).map((e) => e.field)).toContain(field);
    }
    await list({ seriesId: seriesB, createdFrom: '2026-03-01' });
    const [event] = await sql<{ details: { filter: Record<string, unknown> } }>(
      t.databaseUrl,
      `SELECT details FROM audit_events WHERE action = 'document.list' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`,
      [clerk.id],
    );
    expect(event.details.filter).toMatchObject({ seriesId: seriesB, createdFrom: '2026-03-01' });
  });
});
