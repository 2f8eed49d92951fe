import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Links retention to the documents tables once both exist: a document's series must be
 * a series of the file plan, and every retention row names a real document. RESTRICT
 * everywhere: records about records are never deleted by a cascade.
 */
export class RetentionDocumentLinks1764000400100 implements MigrationInterface {
  name = 'RetentionDocumentLinks1764000400100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE documents ADD CONSTRAINT fk_documents_series FOREIGN KEY (series_id) REFERENCES record_series (id) ON DELETE RESTRICT`);
    for (const table of ['retention_events', 'retention_extensions', 'legal_hold_documents', 'disposition_items', 'retention_due_notices']) {
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT fk_${table}_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE RESTRICT`);
    }
    await q.query(`ALTER TABLE fixity_checks ADD CONSTRAINT fk_fixity_checks_version FOREIGN KEY (version_id) REFERENCES document_versions (id) ON DELETE RESTRICT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fixity_checks DROP CONSTRAINT fk_fixity_checks_version`);
    for (const table of ['retention_events', 'retention_extensions', 'legal_hold_documents', 'disposition_items', 'retention_due_notices']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT fk_${table}_document`);
    }
    await q.query(`ALTER TABLE documents DROP CONSTRAINT fk_documents_series`);
  }
}
