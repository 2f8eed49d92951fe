import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export type BatchState = 'proposed' | 'executing' | 'completed' | 'cancelled';
export type ItemState = 'pending' | 'erased' | 'destroyed' | 'extended' | 'skipped';

export interface BatchRow {
  id: string;
  state: BatchState;
  proposedBy: string;
  proposedByName: string;
  proposedAt: Date;
  approvedBy: string | null;
  approvedByName: string | null;
  approvedAt: Date | null;
  completedAt: Date | null;
  /** A worker holds the batch's execution lease now (it has not expired). */
  leased: boolean;
}

export interface ItemRow {
  batchId: string;
  documentId: string;
  state: ItemState;
  dueReason: string;
  decision: 'destroy' | 'extend' | null;
  decisionReason: string | null;
  extendUntil: Date | null;
  plan: Record<string, unknown>;
  result: Record<string, unknown> | null;
  finishedAt: Date | null;
}

/** A batch's items by state: `remaining` are those a worker has not finished (pending or erased). */
export interface ItemCounts {
  total: number;
  destroyed: number;
  extended: number;
  skipped: number;
  remaining: number;
}

export interface OpenBatchRow {
  documentId: string;
  batchId: string;
  state: 'proposed' | 'executing';
}

export interface CertificateRow {
  id: string;
  batchId: string;
  issuedAt: Date;
  keyId: string;
  algorithm: 'Ed25519';
  certificate: string;
  signature: string;
}

const BATCH = `id, state, proposed_by AS "proposedBy", proposed_by_name AS "proposedByName", proposed_at AS "proposedAt",
  approved_by AS "approvedBy", approved_by_name AS "approvedByName", approved_at AS "approvedAt", completed_at AS "completedAt",
  COALESCE(lease_until > clock_timestamp(), false) AS leased`;
const ITEM = `batch_id AS "batchId", document_id AS "documentId", state, due_reason AS "dueReason", decision,
  decision_reason AS "decisionReason", extend_until AS "extendUntil", plan, result, finished_at AS "finishedAt"`;

@Injectable()
export class DispositionRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async createBatch(m: EntityManager, by: { id: string; username: string }, at: Date): Promise<string> {
    const [row] = (await m.query(
      `INSERT INTO disposition_batches (state, proposed_by, proposed_by_name, proposed_at) VALUES ('proposed', $1, $2, $3) RETURNING id`,
      [by.id, by.username, at],
    )) as Array<{ id: string }>;
    return row.id;
  }

  async addItem(m: EntityManager, batchId: string, documentId: string, dueReason: string, plan: object): Promise<void> {
    await m.query(`INSERT INTO disposition_items (batch_id, document_id, due_reason, plan) VALUES ($1, $2, $3, $4)`, [batchId, documentId, dueReason, JSON.stringify(plan)]);
  }

  async findBatch(m: EntityManager, id: string, lock = false): Promise<BatchRow | null> {
    const rows = (await m.query(`SELECT ${BATCH} FROM disposition_batches WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as BatchRow[];
    return rows[0] ?? null;
  }

  /** One page of batches, newest first, each with its items counted by state (one query, no ids). */
  async listBatches(m: EntityManager, page: { limit: number; offset: number }): Promise<{ rows: Array<BatchRow & { counts: ItemCounts }>; total: number }> {
    const [{ total }] = (await m.query(`SELECT count(*)::int AS total FROM disposition_batches`)) as Array<{ total: number }>;
    const rows = (await m.query(
      `SELECT ${BATCH}, c.counts FROM disposition_batches b
         CROSS JOIN LATERAL (
           SELECT jsonb_build_object(
                    'total', count(*),
                    'destroyed', count(*) FILTER (WHERE i.state = 'destroyed'),
                    'extended', count(*) FILTER (WHERE i.state = 'extended'),
                    'skipped', count(*) FILTER (WHERE i.state = 'skipped'),
                    'remaining', count(*) FILTER (WHERE i.state IN ('pending', 'erased'))) AS counts
             FROM disposition_items i WHERE i.batch_id = b.id) c
        ORDER BY b.proposed_at DESC, b.id DESC LIMIT $1 OFFSET $2`,
      [page.limit, page.offset],
    )) as Array<BatchRow & { counts: ItemCounts }>;
    return { rows, total };
  }

  items(m: EntityManager, batchId: string): Promise<ItemRow[]> {
    return m.query(`SELECT ${ITEM} FROM disposition_items WHERE batch_id = $1 ORDER BY document_id`, [batchId]) as Promise<ItemRow[]>;
  }

  async lockItem(m: EntityManager, batchId: string, documentId: string): Promise<ItemRow | null> {
    const rows = (await m.query(`SELECT ${ITEM} FROM disposition_items WHERE batch_id = $1 AND document_id = $2 FOR UPDATE`, [batchId, documentId])) as ItemRow[];
    return rows[0] ?? null;
  }

  /** Documents of these ids already in a batch that is not finished with them, and that batch's state. */
  async inOpenBatch(m: EntityManager, documentIds: string[]): Promise<OpenBatchRow[]> {
    if (!documentIds.length) return [];
    return (await m.query(
      `SELECT i.document_id AS "documentId", i.batch_id AS "batchId", b.state FROM disposition_items i
         JOIN disposition_batches b ON b.id = i.batch_id
        WHERE i.document_id = ANY($1::uuid[]) AND i.state IN ('pending', 'erased') AND b.state IN ('proposed', 'executing')`,
      [documentIds],
    )) as OpenBatchRow[];
  }

  async setDecision(m: EntityManager, batchId: string, documentId: string, decision: 'destroy' | 'extend', reason: string | null, until: Date | null): Promise<void> {
    await m.query(`UPDATE disposition_items SET decision = $3, decision_reason = $4, extend_until = $5 WHERE batch_id = $1 AND document_id = $2`, [
      batchId,
      documentId,
      decision,
      reason,
      until,
    ]);
  }

  async approve(m: EntityManager, id: string, by: { id: string; username: string }, at: Date): Promise<void> {
    await m.query(`UPDATE disposition_batches SET state = 'executing', approved_by = $2, approved_by_name = $3, approved_at = $4 WHERE id = $1 AND state = 'proposed'`, [
      id,
      by.id,
      by.username,
      at,
    ]);
  }

  async updateItem(m: EntityManager, batchId: string, documentId: string, state: ItemState, result: object, finishedAt: Date | null): Promise<void> {
    await m.query(`UPDATE disposition_items SET state = $3, result = $4, finished_at = $5 WHERE batch_id = $1 AND document_id = $2`, [
      batchId,
      documentId,
      state,
      JSON.stringify(result),
      finishedAt,
    ]);
  }

  /** A proposal withdrawn before approval: its items are released for a new proposal. */
  async cancel(m: EntityManager, id: string, at: Date): Promise<void> {
    await m.query(`UPDATE disposition_batches SET state = 'cancelled', completed_at = $2 WHERE id = $1 AND state = 'proposed'`, [id, at]);
    await m.query(
      `UPDATE disposition_items SET state = 'skipped', result = jsonb_build_object('reason', 'batch cancelled'), finished_at = $2 WHERE batch_id = $1 AND state = 'pending'`,
      [id, at],
    );
  }

  async complete(m: EntityManager, id: string, at: Date): Promise<void> {
    await m.query(`UPDATE disposition_batches SET state = 'completed', completed_at = $2, lease_owner = NULL, lease_until = NULL WHERE id = $1`, [id, at]);
  }

  /**
   * Takes the lease of the oldest approved batch nobody holds (or whose holder let it expire).
   * SKIP LOCKED plus the re-checked lease condition: of several workers asking at once, one gets it.
   */
  async claimNext(owner: string, leaseSeconds: number, m: EntityManager = this.dataSource.manager): Promise<string | null> {
    const [rows] = (await m.query(
      `UPDATE disposition_batches SET lease_owner = $1, lease_until = clock_timestamp() + make_interval(secs => $2::int)
        WHERE id = (SELECT id FROM disposition_batches
                     WHERE state = 'executing' AND (lease_until IS NULL OR lease_until < clock_timestamp())
                     ORDER BY approved_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND state = 'executing' AND (lease_until IS NULL OR lease_until < clock_timestamp())
       RETURNING id`,
      [owner, leaseSeconds],
    )) as [Array<{ id: string }>, number];
    return rows[0]?.id ?? null;
  }

  /** Extends the lease while its holder works; false when the holder lost it (expired and taken, or the batch finished). */
  async renewLease(id: string, owner: string, leaseSeconds: number, m: EntityManager = this.dataSource.manager): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE disposition_batches SET lease_until = clock_timestamp() + make_interval(secs => $3::int) WHERE id = $1 AND lease_owner = $2 AND state = 'executing' RETURNING id`,
      [id, owner, leaseSeconds],
    )) as [Array<{ id: string }>, number];
    return rows.length === 1;
  }

  /** Gives the lease back: now (a clean stop, another worker may continue at once) or after `retryAfterSeconds` (a failed step). */
  async releaseLease(id: string, owner: string, retryAfterSeconds = 0, m: EntityManager = this.dataSource.manager): Promise<void> {
    if (retryAfterSeconds > 0) {
      await m.query(`UPDATE disposition_batches SET lease_until = clock_timestamp() + make_interval(secs => $3::int) WHERE id = $1 AND lease_owner = $2`, [id, owner, retryAfterSeconds]);
    } else {
      await m.query(`UPDATE disposition_batches SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
    }
  }

  async insertCertificate(m: EntityManager, c: Omit<CertificateRow, 'id'> & { id: string }): Promise<void> {
    await m.query(
      `INSERT INTO disposition_certificates (id, batch_id, issued_at, key_id, algorithm, certificate, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [c.id, c.batchId, c.issuedAt, c.keyId, c.algorithm, c.certificate, c.signature],
    );
  }

  async certificate(m: EntityManager, batchId: string): Promise<CertificateRow | null> {
    const rows = (await m.query(
      `SELECT id, batch_id AS "batchId", issued_at AS "issuedAt", key_id AS "keyId", algorithm, certificate, signature FROM disposition_certificates WHERE batch_id = $1`,
      [batchId],
    )) as CertificateRow[];
    return rows[0] ?? null;
  }

  /** Where a destroyed document's certificate is: for tombstones. */
  async destructionOf(m: EntityManager, documentId: string): Promise<{ batchId: string; destroyedAt: Date } | null> {
    const rows = (await m.query(`SELECT batch_id AS "batchId", finished_at AS "destroyedAt" FROM disposition_items WHERE document_id = $1 AND state = 'destroyed'`, [
      documentId,
    ])) as Array<{ batchId: string; destroyedAt: Date }>;
    return rows[0] ?? null;
  }
}
