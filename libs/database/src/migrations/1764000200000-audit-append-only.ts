import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed checkpoints of the audit chain, and append-only enforcement: UPDATE, DELETE and
 * TRUNCATE on audit_events and audit_checkpoints raise for every role, the owner
 * included. A superuser can still disable the triggers; that is what the hash chain and
 * the signed checkpoints are for (docs/security.md).
 */
export class AuditAppendOnly1764000200000 implements MigrationInterface {
  name = 'AuditAppendOnly1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_checkpoints (
        seq bigint NOT NULL,
        hash text NOT NULL,
        created_at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature text NOT NULL,
        CONSTRAINT pk_audit_checkpoints PRIMARY KEY (seq),
        CONSTRAINT ck_audit_checkpoints_seq CHECK (seq > 0),
        CONSTRAINT ck_audit_checkpoints_hash CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`
      CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% on % is not allowed: the audit trail is append-only', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    for (const table of ['audit_events', 'audit_checkpoints']) {
      await q.query(`CREATE TRIGGER trg_${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table}
                     FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
      await q.query(`CREATE TRIGGER trg_${table}_no_truncate BEFORE TRUNCATE ON ${table}
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'audit_checkpoints']) {
      await q.query(`DROP TRIGGER trg_${table}_no_truncate ON ${table}`);
      await q.query(`DROP TRIGGER trg_${table}_no_update_delete ON ${table}`);
    }
    await q.query(`DROP FUNCTION audit_refuse_change()`);
    await q.query(`DROP TABLE audit_checkpoints`);
  }
}
