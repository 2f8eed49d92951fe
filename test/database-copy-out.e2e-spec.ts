import { Client } from 'pg';
import { copyOut } from '@kura/database';
import { createDatabase } from './support/infra';

/** copyOut against a real PostgreSQL: rows stream in, failures reject, the connection stays usable. */
describe('copyOut', () => {
  let db: Client;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
  });

  it('hands over one message per row, in order, and resolves when the statement completes', async () => {
    const lines: string[] = [];
    await copyOut(db, `COPY (SELECT g, 'row ' || g FROM generate_series(1, 5000) g) TO STDOUT`, (chunk) => lines.push(chunk.toString()));
    expect(lines).toHaveLength(5000);
    expect(lines[0]).toBe('1\trow 1\n');
    expect(lines[4999]).toBe('5000\trow 5000\n');
  });

  it('rejects with the server error for a bad statement, and the connection answers the next query', async () => {
    await expect(copyOut(db, `COPY (SELECT * FROM no_such_table) TO STDOUT`, () => undefined)).rejects.toThrow(/no_such_table/);
    await expect(db.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('rejects with the error onData threw, after draining the rest, and the connection stays usable', async () => {
    let calls = 0;
    const failing = copyOut(db, `COPY (SELECT g FROM generate_series(1, 1000) g) TO STDOUT`, () => {
      calls++;
      if (calls === 3) throw new Error('consumer gave up');
    });
    await expect(failing).rejects.toThrow('consumer gave up');
    expect(calls).toBe(3);
    await expect(db.query('SELECT 2 AS two')).resolves.toMatchObject({ rows: [{ two: 2 }] });
  });

  it('refuses a COPY FROM without hanging the connection', async () => {
    await db.query('CREATE TEMP TABLE sink (v int)');
    await expect(copyOut(db, 'COPY sink FROM STDIN', () => undefined)).rejects.toThrow();
    await expect(db.query('SELECT count(*)::int AS n FROM sink')).resolves.toMatchObject({ rows: [{ n: 0 }] });
  });

  it('leaves no read timer behind on a client with query_timeout (a pending one keeps a finished process alive)', async () => {
    const timed = new Client({ connectionString: databaseUrl, query_timeout: 60_000 });
    await timed.connect();
    try {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      await copyOut(timed, `COPY (SELECT g FROM generate_series(1, 10) g) TO STDOUT`, () => undefined);
      await expect(copyOut(timed, `COPY (SELECT * FROM no_such_table) TO STDOUT`, () => undefined)).rejects.toThrow(/no_such_table/);
      expect(timers()).toBe(before);
    } finally {
      await timed.end();
    }
  });
});
