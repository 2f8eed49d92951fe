import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface PendingUpload {
  storageKey: string;
  documentId: string;
  createdAt: Date;
}

export interface LiveVersionObject {
  versionId: string;
  documentId: string;
  number: number;
  storageKey: string;
}

/**
 * SQL for the write-ahead intent of content (pending_uploads) and the reconciler's view of
 * which storage keys the documents tables name.
 */
@Injectable()
export class PendingUploadsRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** Committed on its own, before the first byte of `storageKey` is written. */
  async record(storageKey: string, documentId: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO pending_uploads (storage_key, document_id) VALUES ($1, $2)`, [storageKey, documentId]);
  }

  /**
   * Inside the transaction that inserts the version: the intent is fulfilled. False when
   * the reconciler already gave the upload up (its object may be gone): the caller must
   * roll back.
   */
  async fulfil(manager: EntityManager, storageKey: string): Promise<boolean> {
    const [, affected] = (await manager.query(`DELETE FROM pending_uploads WHERE storage_key = $1`, [storageKey])) as [unknown, number];
    return affected === 1;
  }

  async forget(storageKey: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`DELETE FROM pending_uploads WHERE storage_key = $1`, [storageKey]);
  }

  async versionExists(storageKey: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const rows = (await manager.query(`SELECT 1 FROM document_versions WHERE storage_key = $1`, [storageKey])) as unknown[];
    return rows.length > 0;
  }

  /**
   * Intents older than `graceMs` by the database clock (the clock that stamped them), locked
   * so concurrent reconcilers and the upload's own commit take turns.
   */
  async lockStale(manager: EntityManager, graceMs: number, limit: number): Promise<PendingUpload[]> {
    return (await manager.query(
      `SELECT storage_key AS "storageKey", document_id AS "documentId", created_at AS "createdAt"
         FROM pending_uploads WHERE created_at <= clock_timestamp() - $1 * interval '1 millisecond'
        ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [graceMs, limit],
    )) as PendingUpload[];
  }

  /** Of `keys`, those a version row or an intent names. */
  async claimedKeys(keys: string[]): Promise<Set<string>> {
    const rows = (await this.dataSource.query(
      `SELECT storage_key AS "storageKey" FROM document_versions WHERE storage_key = ANY($1::text[])
       UNION SELECT storage_key FROM pending_uploads WHERE storage_key = ANY($1::text[])`,
      [keys],
    )) as Array<{ storageKey: string }>;
    return new Set(rows.map((r) => r.storageKey));
  }

  /** Versions whose object must exist (data key not erased), created before `before`; keyset pages by id. */
  async liveVersions(before: Date, afterId: string, limit: number): Promise<LiveVersionObject[]> {
    return (await this.dataSource.query(
      `SELECT id AS "versionId", document_id AS "documentId", number, storage_key AS "storageKey"
         FROM document_versions
        WHERE wrapped_key IS NOT NULL AND created_at < $1 AND id > $2
        ORDER BY id LIMIT $3`,
      [before, afterId, limit],
    )) as LiveVersionObject[];
  }
}
