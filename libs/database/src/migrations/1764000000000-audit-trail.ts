import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditTrail1764000000000 implements MigrationInterface {
  name = 'AuditTrail1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // details is json, not jsonb: json keeps its input text byte for byte, and the appender
    // stores the RFC 8785 canonical text, so the verifier hashes that text as stored instead
    // of parsing and re-serialising it per event (any other text for it fails the hash).
    await q.query(`
      CREATE TABLE audit_events (
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
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
        prev_hash text NOT NULL,
        hash text NOT NULL,
        CONSTRAINT pk_audit_events PRIMARY KEY (seq),
        CONSTRAINT ck_audit_events_outcome CHECK (outcome IN ('allowed', 'denied', 'failed')),
        CONSTRAINT ck_audit_events_action CHECK (action ~ '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$')
      )`);
    await q.query(`CREATE INDEX ix_audit_events_target ON audit_events (target_id, seq)`);
    await q.query(`CREATE INDEX ix_audit_events_actor ON audit_events (actor_id, seq)`);
    await q.query(`CREATE INDEX ix_audit_events_at ON audit_events (at)`);
    // One row: the chain head. Appenders lock it, so commit order equals chain order.
    await q.query(`
      CREATE TABLE audit_chain_head (
        id smallint NOT NULL DEFAULT 1,
        seq bigint NOT NULL,
        hash text NOT NULL,
        CONSTRAINT pk_audit_chain_head PRIMARY KEY (id),
        CONSTRAINT ck_audit_chain_head_single CHECK (id = 1)
      )`);
    await q.query(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_chain_head`);
    await q.query(`DROP TABLE audit_events`);
  }
}
