import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A hold's register keeps every document it ever covered: removing a document from an
 * active hold marks its row released (when, by whom) instead of deleting it. A document is
 * on a hold at most once at a time; once released it may be placed on the same hold again,
 * which adds a new row, so each period under the hold stays on record.
 */
export class HoldMembershipHistory1764001600000 implements MigrationInterface {
  name = 'HoldMembershipHistory1764001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE legal_hold_documents
        ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
        ADD COLUMN released_at timestamptz NULL,
        ADD COLUMN released_by uuid NULL,
        ADD COLUMN released_by_name text NULL`);
    await q.query(`ALTER TABLE legal_hold_documents DROP CONSTRAINT pk_legal_hold_documents`);
    await q.query(`ALTER TABLE legal_hold_documents ADD CONSTRAINT pk_legal_hold_documents PRIMARY KEY (id)`);
    await q.query(`ALTER TABLE legal_hold_documents ADD CONSTRAINT ck_legal_hold_documents_release CHECK ((released_at IS NULL) = (released_by_name IS NULL))`);
    await q.query(`CREATE UNIQUE INDEX ux_legal_hold_documents_current ON legal_hold_documents (hold_id, document_id) WHERE released_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The history cannot be kept under the old key: released rows go, as they would have then.
    await q.query(`DELETE FROM legal_hold_documents WHERE released_at IS NOT NULL`);
    await q.query(`DROP INDEX ux_legal_hold_documents_current`);
    await q.query(`ALTER TABLE legal_hold_documents DROP CONSTRAINT ck_legal_hold_documents_release, DROP CONSTRAINT pk_legal_hold_documents`);
    await q.query(`ALTER TABLE legal_hold_documents ADD CONSTRAINT pk_legal_hold_documents PRIMARY KEY (hold_id, document_id)`);
    await q.query(`ALTER TABLE legal_hold_documents DROP COLUMN released_by_name, DROP COLUMN released_by, DROP COLUMN released_at, DROP COLUMN id`);
  }
}
