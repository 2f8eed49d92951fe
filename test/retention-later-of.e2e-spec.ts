import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { dispositionDate, parseTrigger, reasonFor, RetentionRepository, statutoryMinimumOf } from '@kura/retention';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { sql } from './support/documents';

jest.setTimeout(60_000);

/**
 * "The later of a purpose-ended event and a statutory period" (My Number guideline: delete
 * without delay once the purpose has ended AND the statutory retention has passed). The due
 * list computes the date in SQL; it must agree with dispositionDate at month ends and leap years.
 */
describe('retention: the later of an event and a statutory minimum', () => {
  let t: TestApp;
  let officer: TestUser;
  let seriesId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
    const res = await request(t.http).post('/api/v1/retention/series').set({ Authorization: `Bearer ${officer.token}` })
      .send({
        code: 'JP-MN-DEPENDENTS', name: '給与所得者の扶養控除等申告書', years: 0, months: 0, days: 0, trigger: 'event:purpose-ended',
        minimumTrigger: 'event:filing-deadline', minimumYears: 7, disposition: 'destroy', citation: '所得税法施行規則 第76条の3; 番号法 第20条',
      })
      .expect(201);
    seriesId = res.body.id;
    expect(res.body).toMatchObject({ minimumTrigger: 'event:filing-deadline', minimumYears: 7, minimumMonths: 0, minimumDays: 0, retention: 'the later of no further retention after event:purpose-ended and 7 years after event:filing-deadline' });
  });
  afterAll(async () => {
    await t.close();
  });

  async function document(events: Record<string, string>): Promise<string> {
    const id = randomUUID();
    await sql(t.databaseUrl, `INSERT INTO documents (id, title, kind, classification, department, owner_id, personal_data, series_id, status, current_version, created_at, updated_at)
      VALUES ($1, 'form', 'record', 2, 'hr', $2, 'specific', $3, 'active', 1, '2020-01-10T00:00:00Z', '2020-01-10T00:00:00Z')`, [id, randomUUID(), seriesId]);
    for (const [event, at] of Object.entries(events)) {
      await sql(t.databaseUrl, `INSERT INTO retention_events (document_id, event, occurred_at, recorded_at) VALUES ($1, $2, $3, now())`, [id, event, at]);
    }
    return id;
  }

  const cases: Array<[string, Record<string, string>, string | null]> = [
    ['purpose ends first: the statutory end', { 'purpose-ended': '2021-06-30T00:00:00Z', 'filing-deadline': '2021-01-31T00:00:00Z' }, '2028-01-31T00:00:00.000Z'],
    ['purpose ends last: the event', { 'purpose-ended': '2029-03-31T00:00:00Z', 'filing-deadline': '2021-01-31T00:00:00Z' }, '2029-03-31T00:00:00.000Z'],
    ['leap day + 7 years: 28 February', { 'purpose-ended': '2024-03-01T00:00:00Z', 'filing-deadline': '2024-02-29T00:00:00Z' }, '2031-02-28T00:00:00.000Z'],
    ['leap day + 7 years, purpose a millisecond later', { 'purpose-ended': '2031-02-28T00:00:00.001Z', 'filing-deadline': '2024-02-29T00:00:00Z' }, '2031-02-28T00:00:00.001Z'],
    ['month end at a time of day', { 'purpose-ended': '2020-01-01T00:00:00Z', 'filing-deadline': '2021-03-31T23:59:59.999Z' }, '2028-03-31T23:59:59.999Z'],
    ['purpose not ended yet: kept', { 'filing-deadline': '2021-01-31T00:00:00Z' }, null],
    ['filing deadline unknown: kept', { 'purpose-ended': '2021-06-30T00:00:00Z' }, null],
  ];

  it.each(cases)('%s (SQL = dispositionDate)', async (_name, events, expected) => {
    const id = await document(events);
    const repo = t.app.get(RetentionRepository);
    const [f] = await repo.facts(repo.dataSource.manager, [id]);
    expect(f.dispositionAt?.toISOString() ?? null).toBe(expected);
    const computed = dispositionDate({
      trigger: parseTrigger(f.trigger as string)!,
      period: { years: f.years ?? 0, months: f.months ?? 0, days: f.days ?? 0 },
      createdAt: f.createdAt,
      events: Object.fromEntries(Object.entries(f.events).map(([k, v]) => [k, new Date(v)])),
      minimum: statutoryMinimumOf(f),
    });
    expect(computed?.toISOString() ?? null).toBe(expected);
  });

  it('is due from that instant on, not a millisecond before, and the reason names both rules', async () => {
    const id = await document({ 'purpose-ended': '2024-03-01T00:00:00Z', 'filing-deadline': '2024-02-29T00:00:00Z' });
    const repo = t.app.get(RetentionRepository);
    const dueAt = async (iso: string) => (await repo.due(repo.dataSource.manager, new Date(iso))).map((f) => f.id);
    expect(await dueAt('2031-02-27T23:59:59.999Z')).not.toContain(id);
    expect(await dueAt('2031-02-28T00:00:00.000Z')).toContain(id);
    const [f] = await repo.facts(repo.dataSource.manager, [id]);
    expect(reasonFor(f)).toBe(
      'Series JP-MN-DEPENDENTS: no further retention after event "purpose-ended" on 2024-03-01T00:00:00.000Z ended on 2024-03-01T00:00:00.000Z, ' +
        'and the statutory minimum of 7 years after event "filing-deadline" on 2024-02-29T00:00:00.000Z ended on 2031-02-28T00:00:00.000Z (the later of the two applies).',
    );
  });

  it('a statutory minimum can be removed (null) and validated', async () => {
    const auth = { Authorization: `Bearer ${officer.token}` };
    await request(t.http).post('/api/v1/retention/series').set(auth).send({ code: 'BAD-MIN', name: 'x', trigger: 'created', minimumTrigger: 'event:Filing Deadline', disposition: 'destroy', citation: 'x' }).expect(400);
    await request(t.http).post('/api/v1/retention/series').set(auth).send({ code: 'BAD-MIN', name: 'x', trigger: 'created', minimumTrigger: 'created', minimumYears: -1, disposition: 'destroy', citation: 'x' }).expect(400);
    const created = await request(t.http).post('/api/v1/retention/series').set(auth).send({ code: 'TMP-MIN', name: 'x', trigger: 'created', minimumTrigger: 'created', minimumYears: 3, disposition: 'destroy', citation: 'x' }).expect(201);
    const cleared = await request(t.http).patch(`/api/v1/retention/series/${created.body.id}`).set(auth).send({ minimumTrigger: null }).expect(200);
    expect(cleared.body).toMatchObject({ minimumTrigger: null, retention: 'no further retention' });
  });
});
