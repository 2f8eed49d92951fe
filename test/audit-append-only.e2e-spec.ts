import { getRepositoryToken } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AuditCheckpointEntity, AuditCheckpointService, AuditEventEntity, AuditService, AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, recordEvents, superuser } from './support/audit';

describe('audit trail is append-only', () => {
  let t: TestApp;
  let events: Repository<AuditEventEntity>;
  let checkpoints: Repository<AuditCheckpointEntity>;
  let ds: DataSource;
  /** Events already in the trail at start-up (the bootstrap administrator's creation). */
  let base: number;

  beforeAll(async () => {
    t = await startTestApp();
    base = await lastSeq(t);
    ds = t.app.get(DataSource);
    events = t.app.get(getRepositoryToken(AuditEventEntity));
    checkpoints = t.app.get(getRepositoryToken(AuditCheckpointEntity));
    await recordEvents(t, 5);
    await expect(t.app.get(AuditCheckpointService).create()).resolves.toMatchObject({ seq: String(base + 5) });
  });
  afterAll(async () => {
    await t.close();
  });

  async function snapshot(): Promise<unknown> {
    const db = await superuser(t);
    try {
      const e = await db.query('SELECT * FROM audit_events ORDER BY seq');
      const c = await db.query('SELECT * FROM audit_checkpoints ORDER BY seq');
      return { events: e.rows, checkpoints: c.rows };
    } finally {
      await db.end();
    }
  }

  it('refuses UPDATE, DELETE and TRUNCATE through the TypeORM repositories, and every row survives', async () => {
    const before = await snapshot();
    await expect(events.update({ seq: String(base + 2) }, { actorName: 'mallory' })).rejects.toThrow(/UPDATE on audit_events is not allowed/);
    await expect(events.delete({ seq: String(base + 2) })).rejects.toThrow(/DELETE on audit_events is not allowed/);
    await expect(events.clear()).rejects.toThrow(/TRUNCATE on audit_events is not allowed/);
    await expect(checkpoints.update({ seq: String(base + 5) }, { hash: '0'.repeat(64) })).rejects.toThrow(/UPDATE on audit_checkpoints is not allowed/);
    await expect(checkpoints.delete({ seq: String(base + 5) })).rejects.toThrow(/DELETE on audit_checkpoints is not allowed/);
    await expect(checkpoints.clear()).rejects.toThrow(/TRUNCATE on audit_checkpoints is not allowed/);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in raw SQL, even for the superuser, and every row survives', async () => {
    const before = await snapshot();
    const db = await superuser(t);
    try {
      for (const table of ['audit_events', 'audit_checkpoints']) {
        await expect(db.query(`UPDATE ${table} SET hash = repeat('f', 64) WHERE seq = $1`, [base + 5])).rejects.toThrow(/not allowed/);
        await expect(db.query(`DELETE FROM ${table} WHERE seq = $1`, [base + 5])).rejects.toThrow(/not allowed/);
        await expect(db.query(`DELETE FROM ${table}`)).rejects.toThrow(/not allowed/);
        await expect(db.query(`TRUNCATE ${table}`)).rejects.toThrow(/not allowed/);
        await expect(db.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/not allowed/);
      }
      // Through the application's own pool too.
      await expect(ds.query(`UPDATE audit_events SET details = '{}'::json`)).rejects.toThrow(/not allowed/);
    } finally {
      await db.end();
    }
    expect(await snapshot()).toEqual(before);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true, checked: base + 5 });
  });

  it('fails closed: when the audit append fails, the change it records is rolled back', async () => {
    await ds.query('CREATE TABLE probe (id int PRIMARY KEY)');
    const audit = t.app.get(AuditService);
    const before = await snapshot();
    // The action violates ck_audit_pending_action, so the append throws inside the transaction.
    await expect(
      ds.transaction(async (m) => {
        await m.query('INSERT INTO probe (id) VALUES (1)');
        await audit.append(m, { actor: null, actorName: 'system', action: 'Not A Dotted Name', outcome: 'allowed' });
      }),
    ).rejects.toThrow(/ck_audit_pending_action/);
    expect(await ds.query('SELECT * FROM probe')).toEqual([]);
    expect(await snapshot()).toEqual(before);

    // And the other way round: the change fails after the append, the audit event goes with it.
    await expect(
      ds.transaction(async (m) => {
        await audit.append(m, { actor: null, actorName: 'system', action: 'probe.insert', outcome: 'allowed' });
        await m.query('INSERT INTO probe (id) VALUES (NULL)');
      }),
    ).rejects.toThrow(/null value/);
    expect(await snapshot()).toEqual(before);

    // The chain head did not move: the next append continues the chain without a gap.
    await ds.transaction(async (m) => {
      await m.query('INSERT INTO probe (id) VALUES (2)');
      await audit.append(m, { actor: null, actorName: 'system', action: 'probe.insert', outcome: 'allowed' });
    });
    expect(await ds.query('SELECT id FROM probe')).toEqual([{ id: 2 }]);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toEqual({ valid: true, checked: base + 6, firstInvalidSeq: null, reason: null });
  });
});
