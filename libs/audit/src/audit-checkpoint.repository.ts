import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';

interface CheckpointRow {
  seq: string;
  hash: string;
  created_at: Date;
  key_id: string;
  signature: string;
}

const toEntity = (r: CheckpointRow): AuditCheckpointEntity =>
  Object.assign(new AuditCheckpointEntity(), { seq: r.seq, hash: r.hash, createdAt: r.created_at, keyId: r.key_id, signature: r.signature });

@Injectable()
export class AuditCheckpointRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Database clock, millisecond precision: the signed `at` must round-trip through timestamptz exactly. */
  async databaseNow(): Promise<Date> {
    const [row] = (await this.dataSource.query(`SELECT date_trunc('milliseconds', clock_timestamp()) AS at`)) as Array<{ at: Date }>;
    return row.at;
  }

  /**
   * Idempotent on seq: several workers checkpointing the same head store one row, and
   * every caller gets that row back.
   */
  async insert(c: AuditCheckpointEntity): Promise<AuditCheckpointEntity> {
    await this.dataSource.query(
      `INSERT INTO audit_checkpoints (seq, hash, created_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (seq) DO NOTHING`,
      [c.seq, c.hash, c.createdAt, c.keyId, c.signature],
    );
    const stored = await this.findBySeq(c.seq);
    if (!stored) throw new Error('checkpoint vanished after insert');
    return stored;
  }

  async findBySeq(seq: string): Promise<AuditCheckpointEntity | null> {
    const rows = (await this.dataSource.query(
      `SELECT seq::text AS seq, hash, created_at, key_id, signature FROM audit_checkpoints WHERE seq = $1`,
      [seq],
    )) as CheckpointRow[];
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /** Newest first. */
  async list(page: number, pageSize: number): Promise<{ items: AuditCheckpointEntity[]; total: number }> {
    const rows = (await this.dataSource.query(
      `SELECT seq::text AS seq, hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY audit_checkpoints.seq DESC LIMIT $1 OFFSET $2`,
      [pageSize, (page - 1) * pageSize],
    )) as CheckpointRow[];
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total FROM audit_checkpoints`)) as Array<{ total: number }>;
    return { items: rows.map(toEntity), total };
  }

  /** The checkpoints with first <= seq <= last, oldest first. */
  async inRange(first: string, last: string): Promise<AuditCheckpointEntity[]> {
    const rows = (await this.dataSource.query(
      `SELECT seq::text AS seq, hash, created_at, key_id, signature FROM audit_checkpoints
        WHERE seq >= $1::bigint AND seq <= $2::bigint ORDER BY audit_checkpoints.seq`,
      [first, last],
    )) as CheckpointRow[];
    return rows.map(toEntity);
  }
}
