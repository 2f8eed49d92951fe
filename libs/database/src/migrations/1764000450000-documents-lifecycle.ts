import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The documents capability's lifecycle, enforced by PostgreSQL too (issue 9): the state
 * machine of libs/documents/src/lifecycle/document-lifecycle.ts, so that a commit path that
 * forgets to re-check a document's state cannot leave content behind a destruction.
 *
 * - documents: created `active`; only the transitions active⇄on_hold, active→pending_disposition,
 *   pending_disposition→destroyed; nothing but last_accessed_at changes once a disposition
 *   started, except the destruction itself (status, the title of a `specific` record, updated_at).
 * - document_versions: no version is added, and no key re-wrapped, for a document pending
 *   disposition or destroyed; a data key is erased only while its document is pending disposition.
 *   The document row is read FOR SHARE, so a concurrent disposition waits for (or is seen by) the insert.
 *
 * It also publishes the documents capability's read model for other capabilities:
 * `document_facts` and `document_version_facts`, read-only views (no key material, only
 * whether a key is present). Other capabilities read these, never the tables, and write
 * through the documents services.
 */
export class DocumentsLifecycle1764000450000 implements MigrationInterface {
  name = 'DocumentsLifecycle1764000450000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION documents_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.status <> 'active' THEN
            RAISE EXCEPTION 'a document is created active, not %', NEW.status USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
             ('active', 'on_hold'), ('on_hold', 'active'), ('active', 'pending_disposition'), ('pending_disposition', 'destroyed')) THEN
          RAISE EXCEPTION 'a document cannot go from % to %', OLD.status, NEW.status USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.status IN ('pending_disposition', 'destroyed') AND (
             (NEW.id, NEW.kind, NEW.classification, NEW.department, NEW.owner_id, NEW.tags, NEW.personal_data,
              NEW.series_id, NEW.review_due_at, NEW.current_version, NEW.created_at)
             IS DISTINCT FROM
             (OLD.id, OLD.kind, OLD.classification, OLD.department, OLD.owner_id, OLD.tags, OLD.personal_data,
              OLD.series_id, OLD.review_due_at, OLD.current_version, OLD.created_at)
             OR ((NEW.title, NEW.updated_at) IS DISTINCT FROM (OLD.title, OLD.updated_at)
                 AND NOT (OLD.status = 'pending_disposition' AND NEW.status = 'destroyed'))) THEN
          RAISE EXCEPTION 'document % is % and cannot change', OLD.id, OLD.status USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER tr_documents_lifecycle BEFORE INSERT OR UPDATE ON documents FOR EACH ROW EXECUTE FUNCTION documents_lifecycle()`);

    await q.query(`
      CREATE FUNCTION document_versions_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        state text;
      BEGIN
        SELECT status INTO state FROM documents WHERE id = NEW.document_id FOR SHARE;
        IF TG_OP = 'INSERT' THEN
          IF state IN ('pending_disposition', 'destroyed') THEN
            RAISE EXCEPTION 'no new version for a document that is %', state USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF (NEW.wrapped_key, NEW.kek_id) IS NOT DISTINCT FROM (OLD.wrapped_key, OLD.kek_id) THEN
          RETURN NEW;
        END IF;
        IF NEW.wrapped_key IS NULL THEN
          IF state <> 'pending_disposition' THEN
            RAISE EXCEPTION 'a data key is erased only by a disposition in progress, not while the document is %', state USING ERRCODE = 'integrity_constraint_violation';
          END IF;
        ELSIF state IN ('pending_disposition', 'destroyed') THEN
          RAISE EXCEPTION 'no key write for a document that is %', state USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER tr_document_versions_lifecycle BEFORE INSERT OR UPDATE ON document_versions FOR EACH ROW EXECUTE FUNCTION document_versions_lifecycle()`);

    await q.query(`
      CREATE VIEW document_facts AS
        SELECT id, title, kind, classification, department, owner_id, tags, personal_data, series_id, status,
               review_due_at, current_version, created_at, updated_at
          FROM documents`);
    await q.query(`
      CREATE VIEW document_version_facts AS
        SELECT id, document_id, number, size, sha256, media_type, storage_key, wrapped_key IS NOT NULL AS has_key, created_at
          FROM document_versions`);
    await q.query(`
      CREATE FUNCTION documents_read_only_view() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is read-only: change documents through the documents capability', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const view of ['document_facts', 'document_version_facts']) {
      await q.query(`CREATE TRIGGER tr_${view}_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON ${view} FOR EACH ROW EXECUTE FUNCTION documents_read_only_view()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW document_version_facts`);
    await q.query(`DROP VIEW document_facts`);
    await q.query(`DROP FUNCTION documents_read_only_view()`);
    await q.query(`DROP TRIGGER tr_document_versions_lifecycle ON document_versions`);
    await q.query(`DROP FUNCTION document_versions_lifecycle()`);
    await q.query(`DROP TRIGGER tr_documents_lifecycle ON documents`);
    await q.query(`DROP FUNCTION documents_lifecycle()`);
  }
}
