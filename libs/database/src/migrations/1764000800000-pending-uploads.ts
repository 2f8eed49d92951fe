import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Write-ahead intent for content (issue 10): a row naming the storage key is committed
 * before the first byte goes to the object store, and removed in the transaction that
 * commits the version. An object with neither a version row nor a young intent is an
 * orphan the reconciler may delete.
 */
export class PendingUploads1764000800000 implements MigrationInterface {
  name = 'PendingUploads1764000800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pending_uploads (
        storage_key text NOT NULL,
        document_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_pending_uploads PRIMARY KEY (storage_key),
        CONSTRAINT ck_pending_uploads_key CHECK (storage_key = 'documents/' || document_id::text || '/' || substr(storage_key, 48))
      )`);
    await q.query(`CREATE INDEX ix_pending_uploads_created ON pending_uploads (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pending_uploads`);
  }
}
