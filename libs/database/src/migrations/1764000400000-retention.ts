import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * File plan, retention events, legal holds, disposition batches and deletion
 * certificates. Document ids are plain uuids here; the foreign keys to `documents`
 * are added by the migration that links retention to the documents tables.
 */
export class Retention1764000400000 implements MigrationInterface {
  name = 'Retention1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE record_series (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        code text NOT NULL,
        name text NOT NULL,
        years integer NOT NULL DEFAULT 0,
        months integer NOT NULL DEFAULT 0,
        days integer NOT NULL DEFAULT 0,
        trigger text NOT NULL,
        disposition text NOT NULL,
        citation text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by uuid NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT pk_record_series PRIMARY KEY (id),
        CONSTRAINT uq_record_series_code UNIQUE (code),
        CONSTRAINT ck_record_series_code CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        CONSTRAINT ck_record_series_period CHECK (years BETWEEN 0 AND 200 AND months BETWEEN 0 AND 2400 AND days BETWEEN 0 AND 73000),
        CONSTRAINT ck_record_series_trigger CHECK (trigger ~ '^(created|event:[a-z][a-z0-9]*(-[a-z0-9]+)*)$'),
        CONSTRAINT ck_record_series_disposition CHECK (disposition IN ('destroy', 'review'))
      )`);

    // One occurrence date per (document, event); a correction replaces it (and is audited).
    await q.query(`
      CREATE TABLE retention_events (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL,
        event text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        recorded_by uuid NULL,
        CONSTRAINT pk_retention_events PRIMARY KEY (id),
        CONSTRAINT uq_retention_events_document_event UNIQUE (document_id, event),
        CONSTRAINT ck_retention_events_event CHECK (event ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$')
      )`);

    // A review decision to keep a record longer than its series says.
    await q.query(`
      CREATE TABLE retention_extensions (
        document_id uuid NOT NULL,
        extended_until timestamptz NOT NULL,
        reason text NOT NULL,
        decided_at timestamptz NOT NULL,
        decided_by uuid NULL,
        CONSTRAINT pk_retention_extensions PRIMARY KEY (document_id)
      )`);

    await q.query(`
      CREATE TABLE legal_holds (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by uuid NULL,
        created_by_name text NOT NULL,
        released_at timestamptz NULL,
        released_by uuid NULL,
        released_by_name text NULL,
        CONSTRAINT pk_legal_holds PRIMARY KEY (id),
        CONSTRAINT ck_legal_holds_release CHECK ((released_at IS NULL) = (released_by_name IS NULL))
      )`);
    await q.query(`
      CREATE TABLE legal_hold_documents (
        hold_id uuid NOT NULL,
        document_id uuid NOT NULL,
        CONSTRAINT pk_legal_hold_documents PRIMARY KEY (hold_id, document_id),
        CONSTRAINT fk_legal_hold_documents_hold FOREIGN KEY (hold_id) REFERENCES legal_holds (id) ON DELETE RESTRICT
      )`);
    await q.query(`CREATE INDEX ix_legal_hold_documents_document ON legal_hold_documents (document_id)`);

    await q.query(`
      CREATE TABLE disposition_batches (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        state text NOT NULL,
        proposed_by uuid NOT NULL,
        proposed_by_name text NOT NULL,
        proposed_at timestamptz NOT NULL,
        approved_by uuid NULL,
        approved_by_name text NULL,
        approved_at timestamptz NULL,
        completed_at timestamptz NULL,
        CONSTRAINT pk_disposition_batches PRIMARY KEY (id),
        CONSTRAINT ck_disposition_batches_state CHECK (state IN ('proposed', 'executing', 'completed', 'cancelled')),
        CONSTRAINT ck_disposition_batches_approval CHECK ((state IN ('proposed', 'cancelled')) = (approved_by IS NULL)),
        -- Four-eyes, enforced by the database as well as the service.
        CONSTRAINT ck_disposition_batches_four_eyes CHECK (approved_by IS NULL OR approved_by <> proposed_by),
        CONSTRAINT ck_disposition_batches_completed CHECK ((state IN ('completed', 'cancelled')) = (completed_at IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE disposition_items (
        batch_id uuid NOT NULL,
        document_id uuid NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        due_reason text NOT NULL,
        decision text NULL,
        decision_reason text NULL,
        extend_until timestamptz NULL,
        plan jsonb NOT NULL,
        result jsonb NULL,
        finished_at timestamptz NULL,
        CONSTRAINT pk_disposition_items PRIMARY KEY (batch_id, document_id),
        CONSTRAINT fk_disposition_items_batch FOREIGN KEY (batch_id) REFERENCES disposition_batches (id) ON DELETE RESTRICT,
        -- pending -> erased (data keys destroyed, committed) -> destroyed (objects deleted and verified);
        -- or pending -> extended | skipped. Each step commits under the item's row lock.
        CONSTRAINT ck_disposition_items_state CHECK (state IN ('pending', 'erased', 'destroyed', 'extended', 'skipped')),
        CONSTRAINT ck_disposition_items_decision CHECK (decision IS NULL OR decision IN ('destroy', 'extend')),
        CONSTRAINT ck_disposition_items_extend CHECK (decision IS DISTINCT FROM 'extend' OR decision_reason IS NOT NULL),
        CONSTRAINT ck_disposition_items_finished CHECK ((state IN ('pending', 'erased')) = (finished_at IS NULL))
      )`);
    // A record is destroyed at most once, whichever batch or worker gets there first.
    await q.query(`CREATE UNIQUE INDEX uq_disposition_items_destroyed ON disposition_items (document_id) WHERE state = 'destroyed'`);
    await q.query(`CREATE INDEX ix_disposition_items_document ON disposition_items (document_id)`);

    await q.query(`
      CREATE TABLE disposition_certificates (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        batch_id uuid NOT NULL,
        issued_at timestamptz NOT NULL,
        key_id text NOT NULL,
        algorithm text NOT NULL,
        certificate text NOT NULL,
        signature text NOT NULL,
        CONSTRAINT pk_disposition_certificates PRIMARY KEY (id),
        -- One certificate per batch, however many executors finish it.
        CONSTRAINT uq_disposition_certificates_batch UNIQUE (batch_id),
        CONSTRAINT fk_disposition_certificates_batch FOREIGN KEY (batch_id) REFERENCES disposition_batches (id) ON DELETE RESTRICT,
        CONSTRAINT ck_disposition_certificates_algorithm CHECK (algorithm = 'Ed25519')
      )`);

    // The due sweep audits `retention.due` once per document and disposition date, whichever worker gets there.
    await q.query(`
      CREATE TABLE retention_due_notices (
        document_id uuid NOT NULL,
        disposition_at timestamptz NOT NULL,
        noticed_at timestamptz NOT NULL,
        CONSTRAINT pk_retention_due_notices PRIMARY KEY (document_id, disposition_at)
      )`);

    // Fixity: when each version was last re-read; workers claim the oldest with SKIP LOCKED.
    await q.query(`
      CREATE TABLE fixity_checks (
        version_id uuid NOT NULL,
        checked_at timestamptz NOT NULL,
        ok boolean NULL,
        CONSTRAINT pk_fixity_checks PRIMARY KEY (version_id)
      )`);
    await q.query(`CREATE INDEX ix_fixity_checks_checked_at ON fixity_checks (checked_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE fixity_checks`);
    await q.query(`DROP TABLE retention_due_notices`);
    await q.query(`DROP TABLE disposition_certificates`);
    await q.query(`DROP TABLE disposition_items`);
    await q.query(`DROP TABLE disposition_batches`);
    await q.query(`DROP TABLE legal_hold_documents`);
    await q.query(`DROP TABLE legal_holds`);
    await q.query(`DROP TABLE retention_extensions`);
    await q.query(`DROP TABLE retention_events`);
    await q.query(`DROP TABLE record_series`);
  }
}
