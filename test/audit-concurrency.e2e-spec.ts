import { DataSource } from 'typeorm';
import { AuditCheckpointService, AuditService, AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { lastSeq } from './support/audit';

const WRITERS_PER_INSTANCE = 25;
const ROUNDS = 4;

/**
 * Two service instances on one database, 25 concurrent writers each, half of the appends
 * inside a transaction that also writes a row, checkpoints taken by both instances while
 * they write: the result must be one valid chain with contiguous sequence numbers.
 */
describe('audit chain under concurrency', () => {
  let a: TestApp;
  let b: TestApp;
  /** Events both instances found at start-up (one bootstrap administrator, created once). */
  let base: number;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ databaseUrl: a.databaseUrl, s3: a.s3, keysDir: a.config.keysDir });
    base = await lastSeq(a);
    await a.app.get(DataSource).query('CREATE TABLE probe (id serial PRIMARY KEY, instance text NOT NULL, writer int NOT NULL)');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('keeps a single valid chain with 2 instances x 25 concurrent writers', async () => {
    const writer = async (t: TestApp, instance: string, w: number) => {
      const audit = t.app.get(AuditService);
      const ds = t.app.get(DataSource);
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) {
          await audit.record({ actor: null, actorName: `${instance}-${w}`, action: 'concurrency.record', outcome: 'allowed', details: { w, r } });
        } else {
          await ds.transaction(async (m) => {
            const [row] = (await m.query('INSERT INTO probe (instance, writer) VALUES ($1, $2) RETURNING id', [instance, w])) as Array<{ id: number }>;
            await audit.append(m, { actor: null, actorName: `${instance}-${w}`, action: 'concurrency.change', targetId: String(row.id), outcome: 'allowed' });
          });
        }
      }
    };
    const checkpointer = async (t: TestApp) => {
      for (let i = 0; i < 5; i++) await t.app.get(AuditCheckpointService).create();
    };
    await Promise.all([
      ...Array.from({ length: WRITERS_PER_INSTANCE }, (_, w) => writer(a, 'a', w)),
      ...Array.from({ length: WRITERS_PER_INSTANCE }, (_, w) => writer(b, 'b', w)),
      checkpointer(a),
      checkpointer(b),
    ]);
    await Promise.all([a.app.get(AuditCheckpointService).create(), b.app.get(AuditCheckpointService).create()]);

    const written = 2 * WRITERS_PER_INSTANCE * ROUNDS;
    const total = base + written;
    const ds = a.app.get(DataSource);
    const seqs = ((await ds.query('SELECT seq::int AS seq FROM audit_events ORDER BY audit_events.seq')) as Array<{ seq: number }>).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const [head] = (await ds.query('SELECT seq::int AS seq FROM audit_chain_head')) as Array<{ seq: number }>;
    expect(head.seq).toBe(total);
    // Every transactional change has its audit event and vice versa.
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM probe p JOIN audit_events e ON e.target_id = p.id::text AND e.action = 'concurrency.change'`)) as Array<{ n: number }>;
    expect(n).toBe(written / 2);
    // Both instances verify the same chain, including every checkpoint either of them signed.
    const expected = { valid: true, checked: total, firstInvalidSeq: null, reason: null };
    await expect(a.app.get(AuditVerifier).verify()).resolves.toEqual(expected);
    await expect(b.app.get(AuditVerifier).verify()).resolves.toEqual(expected);
    const checkpoints = await a.app.get(AuditCheckpointService).list(1, 100);
    expect(checkpoints.items[0]).toMatchObject({ seq: String(total) });
  });
});
