import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The list's order (created_at DESC, id DESC: newest first, and the keyset cursor) carrying the
 * columns the CASL SQL filters on (department, classification, personal_data, owner_id), so the
 * bounded count is an index-only scan that stops at the bound and the first page reads the
 * index in order. It replaces ix_documents_created (same key, no included columns).
 */
export class DocumentListIndex1764001400100 implements MigrationInterface {
  name = 'DocumentListIndex1764001400100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_documents_list ON documents (created_at DESC, id DESC) INCLUDE (department, classification, personal_data, owner_id)`);
    await q.query(`DROP INDEX ix_documents_created`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_documents_created ON documents (created_at DESC, id DESC)`);
    await q.query(`DROP INDEX ix_documents_list`);
  }
}
