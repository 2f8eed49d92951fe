import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface HoldRow {
  id: string;
  name: string;
  reason: string;
  createdAt: Date;
  createdBy: string | null;
  createdByName: string;
  releasedAt: Date | null;
  releasedByName: string | null;
  /** Documents the hold covers now. */
  documentIds: string[];
  /** Documents removed from the hold while it was active, oldest release first (`releasedAt` as ISO text). */
  releasedDocuments: ReleasedMember[];
}

export interface ReleasedMember {
  documentId: string;
  releasedAt: string;
  releasedBy: string;
}

const SELECT = `
  SELECT h.id, h.name, h.reason, h.created_at AS "createdAt", h.created_by AS "createdBy", h.created_by_name AS "createdByName",
         h.released_at AS "releasedAt", h.released_by_name AS "releasedByName",
         COALESCE(array_agg(hd.document_id ORDER BY hd.document_id) FILTER (WHERE hd.document_id IS NOT NULL AND hd.released_at IS NULL), '{}') AS "documentIds",
         COALESCE(json_agg(json_build_object('documentId', hd.document_id, 'releasedAt', hd.released_at, 'releasedBy', hd.released_by_name) ORDER BY hd.released_at, hd.document_id)
                    FILTER (WHERE hd.released_at IS NOT NULL), '[]') AS "releasedDocuments"
    FROM legal_holds h LEFT JOIN legal_hold_documents hd ON hd.hold_id = h.id`;

@Injectable()
export class HoldsRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  async insert(m: EntityManager, h: { name: string; reason: string; by: { id: string; username: string }; at: Date; documentIds: string[] }): Promise<string> {
    const [row] = (await m.query(
      `INSERT INTO legal_holds (name, reason, created_at, created_by, created_by_name) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [h.name, h.reason, h.at, h.by.id, h.by.username],
    )) as Array<{ id: string }>;
    await m.query(`INSERT INTO legal_hold_documents (hold_id, document_id) SELECT $1, unnest($2::uuid[])`, [row.id, h.documentIds]);
    return row.id;
  }

  async find(m: EntityManager, id: string, lock = false): Promise<HoldRow | null> {
    if (lock) await m.query(`SELECT id FROM legal_holds WHERE id = $1 FOR UPDATE`, [id]);
    const rows = (await m.query(`${SELECT} WHERE h.id = $1 GROUP BY h.id`, [id])) as HoldRow[];
    return rows[0] ?? null;
  }

  list(m: EntityManager = this.dataSource.manager): Promise<HoldRow[]> {
    return m.query(`${SELECT} GROUP BY h.id ORDER BY h.created_at DESC, h.id`) as Promise<HoldRow[]>;
  }

  async release(m: EntityManager, id: string, by: { id: string; username: string }, at: Date): Promise<void> {
    await m.query(`UPDATE legal_holds SET released_at = $2, released_by = $3, released_by_name = $4 WHERE id = $1 AND released_at IS NULL`, [id, at, by.id, by.username]);
  }

  async rename(m: EntityManager, id: string, name: string, reason: string): Promise<void> {
    await m.query(`UPDATE legal_holds SET name = $2, reason = $3 WHERE id = $1 AND released_at IS NULL`, [id, name, reason]);
  }

  async addDocuments(m: EntityManager, id: string, documentIds: string[]): Promise<void> {
    await m.query(`INSERT INTO legal_hold_documents (hold_id, document_id) SELECT $1, unnest($2::uuid[])`, [id, documentIds]);
  }

  /** The hold no longer covers these documents; its register keeps that it did, and until when. */
  async removeDocuments(m: EntityManager, id: string, documentIds: string[], by: { id: string; username: string }, at: Date): Promise<void> {
    await m.query(
      `UPDATE legal_hold_documents SET released_at = $3, released_by = $4, released_by_name = $5
        WHERE hold_id = $1 AND document_id = ANY($2::uuid[]) AND released_at IS NULL`,
      [id, documentIds, at, by.id, by.username],
    );
  }

  /** Of these documents, those still held by another active hold. */
  async stillHeld(m: EntityManager, documentIds: string[]): Promise<Set<string>> {
    const rows = (await m.query(
      `SELECT DISTINCT hd.document_id AS id FROM legal_hold_documents hd JOIN legal_holds h ON h.id = hd.hold_id
        WHERE hd.document_id = ANY($1::uuid[]) AND h.released_at IS NULL AND hd.released_at IS NULL`,
      [documentIds],
    )) as Array<{ id: string }>;
    return new Set(rows.map((r) => r.id));
  }
}
