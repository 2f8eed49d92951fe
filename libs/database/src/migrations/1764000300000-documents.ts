import { MigrationInterface, QueryRunner } from 'typeorm';

export class Documents1764000300000 implements MigrationInterface {
  name = 'Documents1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE documents (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        title text NOT NULL,
        kind text NOT NULL,
        classification smallint NOT NULL,
        department text NOT NULL,
        owner_id uuid NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        personal_data text NOT NULL DEFAULT 'none',
        series_id uuid NULL,
        status text NOT NULL DEFAULT 'active',
        review_due_at timestamptz NULL,
        current_version integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        last_accessed_at timestamptz NULL,
        CONSTRAINT pk_documents PRIMARY KEY (id),
        CONSTRAINT ck_documents_kind CHECK (kind IN ('policy', 'procedure', 'record')),
        CONSTRAINT ck_documents_classification CHECK (classification BETWEEN 0 AND 3),
        CONSTRAINT ck_documents_personal_data CHECK (personal_data IN ('none', 'personal', 'specific')),
        CONSTRAINT ck_documents_status CHECK (status IN ('active', 'on_hold', 'pending_disposition', 'destroyed')),
        CONSTRAINT ck_documents_title CHECK (char_length(title) BETWEEN 1 AND 500),
        CONSTRAINT ck_documents_department CHECK (char_length(department) BETWEEN 1 AND 100),
        CONSTRAINT ck_documents_current_version CHECK (current_version >= 1)
      )`);
    // The list page: ABAC conditions on (department, classification, personal_data), newest first.
    await q.query(`CREATE INDEX ix_documents_created ON documents (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_documents_department_classification ON documents (department, classification, personal_data)`);
    await q.query(`CREATE INDEX ix_documents_classification ON documents (classification, personal_data)`);
    await q.query(`CREATE INDEX ix_documents_owner ON documents (owner_id)`);
    await q.query(`CREATE INDEX ix_documents_series ON documents (series_id) WHERE series_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_documents_tags ON documents USING gin (tags)`);
    await q.query(`CREATE INDEX ix_documents_review_due ON documents (review_due_at) WHERE kind IN ('policy', 'procedure')`);

    await q.query(`
      CREATE TABLE document_versions (
        id uuid NOT NULL,
        document_id uuid NOT NULL,
        number integer NOT NULL,
        size bigint NOT NULL,
        sha256 text NOT NULL,
        media_type text NOT NULL,
        original_filename text NOT NULL,
        author_id uuid NOT NULL,
        comment text NULL,
        created_at timestamptz NOT NULL,
        restored_from integer NULL,
        storage_key text NOT NULL,
        wrapped_key bytea NULL,
        kek_id text NOT NULL,
        nonce_prefix bytea NOT NULL,
        chunk_size integer NOT NULL,
        CONSTRAINT pk_document_versions PRIMARY KEY (id),
        CONSTRAINT fk_document_versions_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE RESTRICT,
        CONSTRAINT uq_document_versions_number UNIQUE (document_id, number),
        CONSTRAINT uq_document_versions_storage_key UNIQUE (storage_key),
        CONSTRAINT ck_document_versions_number CHECK (number >= 1),
        CONSTRAINT ck_document_versions_size CHECK (size >= 0),
        CONSTRAINT ck_document_versions_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        CONSTRAINT ck_document_versions_wrapped_key CHECK (wrapped_key IS NULL OR octet_length(wrapped_key) = 60),
        CONSTRAINT ck_document_versions_nonce_prefix CHECK (octet_length(nonce_prefix) = 8),
        CONSTRAINT ck_document_versions_chunk_size CHECK (chunk_size BETWEEN 16 AND 67108864)
      )`);
    // Rotation walks the rows still wrapped under an old KEK.
    await q.query(`CREATE INDEX ix_document_versions_kek ON document_versions (kek_id) WHERE wrapped_key IS NOT NULL`);

    // Versions are immutable (SPEC §2): only the wrapped key may change — re-wrapped by KEK
    // rotation (kek_id with it) or destroyed by certified deletion (crypto-erase). No deletes.
    await q.query(`
      CREATE FUNCTION document_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'document versions are immutable' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (NEW.id, NEW.document_id, NEW.number, NEW.size, NEW.sha256, NEW.media_type, NEW.original_filename,
            NEW.author_id, NEW.comment, NEW.created_at, NEW.restored_from, NEW.storage_key, NEW.nonce_prefix, NEW.chunk_size)
           IS DISTINCT FROM
           (OLD.id, OLD.document_id, OLD.number, OLD.size, OLD.sha256, OLD.media_type, OLD.original_filename,
            OLD.author_id, OLD.comment, OLD.created_at, OLD.restored_from, OLD.storage_key, OLD.nonce_prefix, OLD.chunk_size) THEN
          RAISE EXCEPTION 'document versions are immutable' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.wrapped_key IS NULL AND NEW.wrapped_key IS NOT NULL THEN
          RAISE EXCEPTION 'an erased data key cannot be restored' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER tr_document_versions_immutable BEFORE UPDATE OR DELETE ON document_versions
        FOR EACH ROW EXECUTE FUNCTION document_versions_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE document_versions`);
    await q.query(`DROP FUNCTION document_versions_immutable()`);
    await q.query(`DROP TABLE documents`);
  }
}
