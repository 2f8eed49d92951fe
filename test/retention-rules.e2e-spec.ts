import fc from 'fast-check';
import { Client } from 'pg';
import { migrate } from '@kura/database';
import { addPeriod, dispositionAtSql } from '@kura/retention';
import { runCli } from '../apps/cli/src/cli';
import { createDatabase, testInfra } from './support/infra';

/** The disposition date is computed in SQL for lists and in TypeScript for decisions: they must agree. */
describe('retention rules against PostgreSQL', () => {
  let databaseUrl: string;
  let db: Client;
  beforeAll(async () => {
    databaseUrl = await createDatabase();
    await migrate(databaseUrl);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    // A non-UTC session must not change the answer.
    await db.query(`SET TIME ZONE 'Asia/Tokyo'`);
  });
  afterAll(async () => {
    await db.end();
  });

  async function sqlDate(from: Date, p: { years: number; months: number; days: number }): Promise<Date> {
    const { rows } = await db.query<{ at: Date }>(
      `SELECT ${dispositionAtSql('$1::timestamptz', 'p')} AS at FROM (SELECT $2::int AS years, $3::int AS months, $4::int AS days) p`,
      [from, p.years, p.months, p.days],
    );
    return rows[0].at;
  }

  it('agrees with addPeriod on month ends and leap days', async () => {
    const cases: Array<[string, number, number, number]> = [
      ['2024-02-29T00:00:00.000Z', 1, 0, 0],
      ['2024-02-29T15:30:00.000Z', 7, 0, 1],
      ['2023-01-31T23:59:59.999Z', 0, 1, 0],
      ['2023-01-31T00:00:00.000Z', 0, 1, 1],
      ['2020-12-31T12:00:00.000Z', 5, 2, 0],
    ];
    for (const [from, years, months, days] of cases) {
      const p = { years, months, days };
      expect((await sqlDate(new Date(from), p)).toISOString()).toBe(addPeriod(new Date(from), p).toISOString());
    }
  });

  it('agrees with addPeriod for arbitrary dates and periods', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2080-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.record({ years: fc.integer({ min: 0, max: 50 }), months: fc.integer({ min: 0, max: 30 }), days: fc.integer({ min: 0, max: 400 }) }),
        async (from, p) => {
          expect((await sqlDate(from, p)).toISOString()).toBe(addPeriod(from, p).toISOString());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects bad triggers, dispositions and self-approved batches in the schema itself', async () => {
    const insert = (trigger: string, disposition: string) =>
      db.query(`INSERT INTO record_series (code, name, trigger, disposition, citation, created_at, updated_at) VALUES ($1, 'n', $2, $3, 'c', now(), now())`, [
        `T-${Math.random().toString(36).slice(2, 8)}`,
        trigger,
        disposition,
      ]);
    await expect(insert('event:Bad Name', 'destroy')).rejects.toThrow(/ck_record_series_trigger/);
    await expect(insert('created', 'shred')).rejects.toThrow(/ck_record_series_disposition/);
    await expect(insert('event:employment-ended', 'review')).resolves.toBeDefined();
    const officer = '11111111-1111-4111-8111-111111111111';
    await expect(
      db.query(
        `INSERT INTO disposition_batches (state, proposed_by, proposed_by_name, proposed_at, approved_by, approved_by_name, approved_at) VALUES ('executing', $1, 'a', now(), $1, 'a', now())`,
        [officer],
      ),
    ).rejects.toThrow(/ck_disposition_batches_four_eyes/);
  });

  it('loads the seed file plan with one command, audited, and a second run changes nothing', async () => {
    const infra = testInfra();
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => undefined, env: { NODE_ENV: 'test', DATABASE_URL: databaseUrl, VAR_DIR: infra.dir } };
    expect(await runCli(['retention', 'seed-file-plan'], io)).toBe(0);
    expect(out[0]).toMatch(/9 series created, 0 already present/);
    const { rows } = await db.query<{ code: string; years: number; trigger: string; citation: string }>(`SELECT code, years, trigger, citation FROM record_series WHERE code LIKE 'JP-%' ORDER BY code`);
    expect(rows.map((r) => r.code)).toEqual(expect.arrayContaining(['JP-TAX-DEPENDENT-DECL', 'JP-LABOR-WAGE-LEDGER', 'JP-LABOR-WORKER-ROSTER', 'JP-CORP-FINANCIAL-STATEMENTS', 'JP-MYNUMBER-COPIES']));
    expect(rows.find((r) => r.code === 'JP-MYNUMBER-COPIES')).toMatchObject({ years: 0, trigger: 'event:purpose-ended' });
    const [later] = (await db.query(`SELECT minimum_trigger, minimum_years FROM record_series WHERE code = 'JP-MYNUMBER-DEPENDENT-DECL'`)).rows;
    expect(later).toEqual({ minimum_trigger: 'event:filing-deadline-passed', minimum_years: 7 });
    const audit = await db.query(`SELECT actor_name, details FROM audit_events WHERE action = 'retention.series.create' ORDER BY seq`);
    expect(audit.rows).toHaveLength(9);
    expect(audit.rows[0]).toMatchObject({ actor_name: 'system', details: expect.objectContaining({ source: 'seed-file-plan' }) });

    out.length = 0;
    expect(await runCli(['retention', 'seed-file-plan'], io)).toBe(0);
    expect(out[0]).toMatch(/0 series created, 9 already present/);
    expect((await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'retention.series.create'`)).rows[0].n).toBe(9);
  });
});
