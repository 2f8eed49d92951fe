import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AdmittedId, DocumentRows, SqlCondition } from '@kura/access';
import { DocumentEntity, DocumentKind } from './document.entity';
import type { DocumentStatus } from './lifecycle/document-lifecycle';
import { DocumentVersionEntity } from './document-version.entity';

export interface DocumentListFilter {
  q?: string;
  kind?: DocumentKind;
  classification?: number;
  department?: string;
  tag?: string;
  /** Policies and procedures whose review date is before this instant. */
  reviewOverdueAt?: Date;
  seriesId?: string;
  /** Created at or after (inclusive). */
  createdFrom?: Date;
  /** Created before (exclusive). */
  createdTo?: Date;
  /** Review date at or after (inclusive). */
  reviewDueFrom?: Date;
  /** Review date before (exclusive). */
  reviewDueTo?: Date;
}

/** Where a keyset page ends: the last row's exact creation time (as PostgreSQL prints it) and id. */
export interface ListCursor {
  createdAt: string;
  id: string;
}

/** Lists count matches exactly up to this many, then answer "more than" (docs/documents.md). */
export const LIST_TOTAL_BOUND = 10_000;

export interface DocumentListRow extends DocumentEntity {
  size: number;
  sha256: string;
}

export interface InventoryRow extends DocumentEntity {
  versions: number;
  size: number;
  totalSize: number;
}

/** A version as the lifecycle and other capabilities see it: no key material, only whether a key remains. */
export interface VersionRecord {
  id: string;
  documentId: string;
  number: number;
  size: number;
  sha256: string;
  storageKey: string;
  hasKey: boolean;
  createdAt: Date;
}

const DOC_COLUMNS = `d.id, d.title, d.kind, d.classification, d.department, d.owner_id AS "ownerId", d.tags,
  d.personal_data AS "personalData", d.series_id AS "seriesId", d.status, d.review_due_at AS "reviewDueAt",
  d.current_version AS "currentVersion", d.created_at AS "createdAt", d.updated_at AS "updatedAt",
  d.last_accessed_at AS "lastAccessedAt"`;

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** SQL for documents and their versions. Versions are inserted, never updated, except the key column. */
@Injectable()
export class DocumentsRepository implements DocumentRows {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /**
   * A new document, its first version and the fulfilment of its upload intent, in one statement
   * (one round trip per create; the version's foreign key is checked at the end of the
   * statement, after both rows exist). False when the intent was gone (the reconciler gave the
   * upload up): the caller rolls back.
   */
  async insertDocumentWithVersion(manager: EntityManager, doc: DocumentEntity, v: DocumentVersionEntity): Promise<boolean> {
    const [row] = (await manager.query(
      `WITH intent AS (
         DELETE FROM pending_uploads WHERE storage_key = $26 RETURNING 1),
       d AS (
         INSERT INTO "documents" (id, title, kind, classification, department, owner_id, tags, personal_data, series_id, status, review_due_at, current_version, created_at, updated_at, last_accessed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9, $10, $11, $12, $13, $14, $15)),
       v AS (
         INSERT INTO "document_versions" (id, document_id, number, size, sha256, media_type, original_filename, author_id, comment, created_at, restored_from, storage_key, wrapped_key, kek_id, nonce_prefix, chunk_size)
         VALUES ($16, $1, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30))
       SELECT EXISTS (SELECT 1 FROM intent) AS fulfilled`,
      [
        doc.id, doc.title, doc.kind, doc.classification, doc.department, doc.ownerId, doc.tags, doc.personalData, doc.seriesId, doc.status, doc.reviewDueAt, doc.currentVersion, doc.createdAt, doc.updatedAt, doc.lastAccessedAt,
        v.id, v.number, v.size, v.sha256, v.mediaType, v.originalFilename, v.authorId, v.comment, v.createdAt, v.restoredFrom, v.storageKey, v.wrappedKey, v.kekId, v.noncePrefix, v.chunkSize,
      ],
    )) as Array<{ fulfilled: boolean }>;
    return row.fulfilled;
  }

  async insertVersion(manager: EntityManager, version: DocumentVersionEntity): Promise<void> {
    await manager.insert(DocumentVersionEntity, version);
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<DocumentEntity | null> {
    return manager.findOne(DocumentEntity, { where: { id } });
  }

  /** For the access decision (libs/access): which of these existing documents the condition admits. */
  async admitted(ids: string[], condition: SqlCondition, manager: EntityManager = this.dataSource.manager): Promise<AdmittedId[]> {
    if (!ids.length) return [];
    return (await manager.query(`SELECT d.id, COALESCE(${condition.sql}, FALSE) AS admitted FROM documents d WHERE d.id = ANY($${condition.params.length + 1}::uuid[])`, [
      ...condition.params,
      ids,
    ])) as AdmittedId[];
  }

  /** Row lock: concurrent versioning and metadata changes of one document take turns. */
  lockById(manager: EntityManager, id: string): Promise<DocumentEntity | null> {
    return manager.findOne(DocumentEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async setCurrentVersion(manager: EntityManager, id: string, number: number, at: Date): Promise<void> {
    await manager.update(DocumentEntity, { id }, { currentVersion: number, updatedAt: at });
  }

  async updateMetadata(
    manager: EntityManager,
    id: string,
    patch: Partial<Pick<DocumentEntity, 'title' | 'tags' | 'classification' | 'reviewDueAt' | 'seriesId'>>,
    at: Date,
  ): Promise<void> {
    await manager.update(DocumentEntity, { id }, { ...patch, updatedAt: at });
  }

  async touchAccessed(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.query(`UPDATE documents SET last_accessed_at = $2 WHERE id = $1`, [id, at]);
  }

  findVersion(documentId: string, number: number, manager: EntityManager = this.dataSource.manager): Promise<DocumentVersionEntity | null> {
    return manager.findOne(DocumentVersionEntity, { where: { documentId, number } });
  }

  findVersionById(id: string): Promise<DocumentVersionEntity | null> {
    return this.dataSource.manager.findOne(DocumentVersionEntity, { where: { id } });
  }

  listVersions(documentId: string): Promise<DocumentVersionEntity[]> {
    return this.dataSource.manager.find(DocumentVersionEntity, { where: { documentId }, order: { number: 'ASC' } });
  }

  /**
   * `total` counts matches up to this many and stops: exact below it, "more than" at it. Counting
   * every match on every page would cost O(matches) at a million documents.
   */
  listTotalBound = LIST_TOTAL_BOUND;

  /**
   * One page of documents the access condition admits, newest first (created_at, then id). `access`
   * is the SQL translation of the caller's CASL rules; its placeholders come first. With `after`
   * (the last row of the previous page) the page is a keyset range, the same cost at any depth;
   * otherwise `page` is an OFFSET. The count stops at `listTotalBound` + 1.
   */
  async list(
    access: SqlCondition,
    filter: DocumentListFilter,
    page: number,
    pageSize: number,
    after?: ListCursor,
  ): Promise<{ rows: DocumentListRow[]; total: number; totalExact: boolean; last: ListCursor | null }> {
    const params = [...access.params];
    const where = [access.sql];
    const bind = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.q) where.push(`d.title ILIKE ${bind(`%${escapeLike(filter.q)}%`)} ESCAPE '\\'`);
    if (filter.kind) where.push(`d.kind = ${bind(filter.kind)}`);
    if (filter.classification !== undefined) where.push(`d.classification = ${bind(filter.classification)}`);
    if (filter.department) where.push(`d.department = ${bind(filter.department)}`);
    if (filter.tag) where.push(`d.tags @> ARRAY[${bind(filter.tag)}]::text[]`);
    if (filter.reviewOverdueAt) where.push(`d.kind IN ('policy', 'procedure') AND d.review_due_at < ${bind(filter.reviewOverdueAt)}`);
    if (filter.seriesId) where.push(`d.series_id = ${bind(filter.seriesId)}::uuid`);
    // Plain ranges on created_at: the (created_at, id) index serves them and the keyset order alike.
    if (filter.createdFrom) where.push(`d.created_at >= ${bind(filter.createdFrom)}`);
    if (filter.createdTo) where.push(`d.created_at < ${bind(filter.createdTo)}`);
    if (filter.reviewDueFrom) where.push(`d.review_due_at >= ${bind(filter.reviewDueFrom)}`);
    if (filter.reviewDueTo) where.push(`d.review_due_at < ${bind(filter.reviewDueTo)}`);
    const clause = where.join(' AND ');
    const countParams = [...params, this.listTotalBound + 1];
    // Count and page on two pooled connections at once: the page's latency is the slower of the two.
    const counting = this.dataSource.query(
      `SELECT count(*)::int AS total FROM (SELECT 1 FROM documents d WHERE ${clause} LIMIT $${countParams.length}) matches`,
      countParams,
    ) as Promise<Array<{ total: number }>>;
    const range = after ? ` AND (d.created_at, d.id) < (${bind(after.createdAt)}::timestamptz, ${bind(after.id)}::uuid)` : '';
    const paging = this.dataSource.query(
      `SELECT ${DOC_COLUMNS}, v.size::float8 AS size, v.sha256, d.created_at::text AS "cursorAt"
         FROM documents d
         JOIN document_versions v ON v.document_id = d.id AND v.number = d.current_version
        WHERE ${clause}${range}
        ORDER BY d.created_at DESC, d.id DESC
        LIMIT ${bind(pageSize)}${after ? '' : ` OFFSET ${bind((page - 1) * pageSize)}`}`,
      params,
    ) as Promise<Array<DocumentListRow & { cursorAt: string }>>;
    const [[{ total }], rows] = await Promise.all([counting, paging]);
    const tail = rows.length === pageSize ? rows[rows.length - 1] : undefined;
    return {
      rows: rows.map(({ cursorAt: _cursorAt, ...row }) => row),
      total: Math.min(total, this.listTotalBound),
      totalExact: total <= this.listTotalBound,
      // The exact stored time (microseconds), not the Date's milliseconds: the next page starts right after it.
      last: tail ? { createdAt: tail.cursorAt, id: tail.id } : null,
    };
  }

  /** The information-asset inventory (情報資産台帳), restricted by the same access condition. */
  async inventory(access: SqlCondition): Promise<InventoryRow[]> {
    return (await this.dataSource.query(
      `SELECT ${DOC_COLUMNS}, s.versions, s.size, s.total_size AS "totalSize"
         FROM documents d
         JOIN LATERAL (
           SELECT count(*)::int AS versions,
                  (max(v.size) FILTER (WHERE v.number = d.current_version))::float8 AS size,
                  sum(v.size)::float8 AS total_size
             FROM document_versions v WHERE v.document_id = d.id
         ) s ON TRUE
        WHERE ${access.sql}
        ORDER BY d.department, d.created_at, d.id`,
      access.params,
    )) as InventoryRow[];
  }

  /** Locks the documents' rows in id order, so two transactions locking overlapping sets cannot deadlock. */
  async lockStates(tx: EntityManager, ids: string[]): Promise<Array<{ id: string; status: DocumentStatus }>> {
    if (!ids.length) return [];
    return (await tx.query(`SELECT id, status FROM documents WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids])) as Array<{ id: string; status: DocumentStatus }>;
  }

  /** One lifecycle transition (see lifecycle/document-lifecycle.ts); false when the row was not in `from`. */
  async transition(tx: EntityManager, id: string, from: DocumentStatus, to: DocumentStatus, extra: { title?: string; updatedAt?: Date } = {}): Promise<boolean> {
    const [, affected] = (await tx.query(
      `UPDATE documents SET status = $3, title = COALESCE($4, title), updated_at = COALESCE($5, updated_at) WHERE id = $1 AND status = $2`,
      [id, from, to, extra.title ?? null, extra.updatedAt ?? null],
    )) as [unknown, number];
    return affected === 1;
  }

  /** The versions of these documents, without key material: whether a key is still present. */
  versionRecords(tx: EntityManager, documentIds: string[]): Promise<VersionRecord[]> {
    return tx.query(
      `SELECT id, document_id AS "documentId", number, size::float8 AS size, sha256, storage_key AS "storageKey",
              wrapped_key IS NOT NULL AS "hasKey", created_at AS "createdAt"
         FROM document_versions WHERE document_id = ANY($1::uuid[]) ORDER BY document_id, number`,
      [documentIds],
    ) as Promise<VersionRecord[]>;
  }

  /**
   * Dead tuples of erased keys linger until vacuum; VACUUM cannot run inside a transaction.
   * A role that neither owns the table nor holds MAINTAIN gets only a warning and nothing is
   * vacuumed, so the answer is checked: true only when the table's vacuum count went up.
   */
  async vacuumVersions(): Promise<boolean> {
    const count = async () => {
      await this.dataSource.query('SELECT pg_stat_clear_snapshot()');
      const rows = (await this.dataSource.query(`SELECT vacuum_count::int AS n FROM pg_stat_user_tables WHERE relid = 'document_versions'::regclass`)) as Array<{ n: number }>;
      return rows[0]?.n ?? 0;
    };
    const before = await count();
    await this.dataSource.query('VACUUM document_versions');
    return (await count()) > before;
  }

  /**
   * Crypto-erase: destroys every wrapped data key of a document inside the caller's
   * transaction. Returns how many keys were destroyed. Dead tuples survive until VACUUM:
   * the caller vacuums document_versions after commit (SPEC §7).
   */
  async eraseDataKeys(manager: EntityManager, documentId: string): Promise<number> {
    const [, affected] = (await manager.query(
      `UPDATE document_versions SET wrapped_key = NULL WHERE document_id = $1 AND wrapped_key IS NOT NULL`,
      [documentId],
    )) as [unknown, number];
    return affected;
  }

  /** A batch of versions still wrapped under another KEK, locked so concurrent rotations skip them. */
  async lockVersionsNotWrappedUnder(
    manager: EntityManager,
    kekId: string,
    limit: number,
    afterId = '00000000-0000-0000-0000-000000000000',
  ): Promise<Array<{ id: string; kekId: string; wrappedKey: Buffer }>> {
    // Keyset order: a row that cannot be re-wrapped is passed over, never retried forever.
    return (await manager.query(
      `SELECT id, kek_id AS "kekId", wrapped_key AS "wrappedKey" FROM document_versions
        WHERE kek_id <> $1 AND wrapped_key IS NOT NULL AND id > $3
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [kekId, limit, afterId],
    )) as Array<{ id: string; kekId: string; wrappedKey: Buffer }>;
  }

  async rewrapKey(manager: EntityManager, versionId: string, kekId: string, wrappedKey: Buffer): Promise<void> {
    await manager.query(`UPDATE document_versions SET kek_id = $2, wrapped_key = $3 WHERE id = $1 AND wrapped_key IS NOT NULL`, [versionId, kekId, wrappedKey]);
  }

  /** How many live data keys each KEK wraps. */
  async countByKek(): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(
      `SELECT kek_id AS "kekId", count(*)::int AS n FROM document_versions WHERE wrapped_key IS NOT NULL GROUP BY kek_id`,
    )) as Array<{ kekId: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.kekId, r.n]));
  }

  /**
   * Every document marked `specific` (destroyed ones included: their history stays), optionally
   * of one department: the scope of the My Number handling ledger. Callers decide what to show.
   */
  async specificDocuments(department?: string): Promise<DocumentEntity[]> {
    return (await this.dataSource.query(
      `SELECT ${DOC_COLUMNS} FROM documents d WHERE d.personal_data = 'specific' AND ($1::text IS NULL OR d.department = $1) ORDER BY d.id`,
      [department ?? null],
    )) as DocumentEntity[];
  }

  /** How many documents marked `specific` each department and series holds, by status: counts only, never titles. */
  async specificCounts(): Promise<Array<{ department: string; seriesId: string | null; status: string; count: number }>> {
    return (await this.dataSource.query(
      `SELECT department, series_id AS "seriesId", status, count(*)::int AS count FROM documents
        WHERE personal_data = 'specific' GROUP BY department, series_id, status ORDER BY department, series_id NULLS FIRST, status`,
    )) as Array<{ department: string; seriesId: string | null; status: string; count: number }>;
  }
}
