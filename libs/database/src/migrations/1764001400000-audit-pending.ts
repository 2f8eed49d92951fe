import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Record in the transaction, chain after it (docs/architecture.md "Audit trail"): a business
 * transaction inserts its event into audit_pending (no global lock); the sequencer moves
 * committed pending rows into audit_events in batches, assigning seq, prev_hash and hash.
 * Pending rows can be inserted, read and deleted (the sequencer deletes what it chained) but
 * never updated or truncated. audit_events.pending_id (not hashed) names the pending row an
 * event came from, so a writer can find its event when another instance chained it.
 */
export class AuditPending1764001400000 implements MigrationInterface {
  name = 'AuditPending1764001400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_pending (
        id bigint GENERATED ALWAYS AS IDENTITY,
        at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        actor_id uuid NULL,
        actor_name text NOT NULL,
        action text NOT NULL,
        target_type text NULL,
        target_id text NULL,
        outcome text NOT NULL,
        client_address text NULL,
        user_agent text NULL,
        request_id text NULL,
        details json NOT NULL DEFAULT '{}'::json,
        CONSTRAINT pk_audit_pending PRIMARY KEY (id),
        CONSTRAINT ck_audit_pending_outcome CHECK (outcome IN ('allowed', 'denied', 'failed')),
        CONSTRAINT ck_audit_pending_action CHECK (action ~ '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$')
      )`);
    // No index but the key: the table holds about one batch at a time, and each index would
    // cost every audited transaction an insert and the sequencer a delete.
    await q.query(`CREATE TRIGGER trg_audit_pending_no_update BEFORE UPDATE ON audit_pending
                   FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
    await q.query(`CREATE TRIGGER trg_audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
                   FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);
    await q.query(`ALTER TABLE audit_events ADD COLUMN pending_id bigint NULL`);
    await q.query(`CREATE UNIQUE INDEX ux_audit_events_pending_id ON audit_events (pending_id) WHERE pending_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ux_audit_events_pending_id`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN pending_id`);
    await q.query(`DROP TABLE audit_pending`);
  }
}
