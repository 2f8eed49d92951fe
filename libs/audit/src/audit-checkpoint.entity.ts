import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A signed statement "the chain had this hash at this sequence". Rows are never updated or deleted. */
@Entity({ name: 'audit_checkpoints' })
export class AuditCheckpointEntity {
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'text' })
  hash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  /** Base64 Ed25519 signature over canonicalJson(checkpointPayload(...)). */
  @Column({ type: 'text' })
  signature!: string;
}

/** What a checkpoint signature covers. `seq` is a decimal string, as in event hashes. */
export function checkpointPayload(c: { seq: string; hash: string; at: Date | string }): { seq: string; hash: string; at: string } {
  return { seq: c.seq, hash: c.hash, at: typeof c.at === 'string' ? c.at : c.at.toISOString() };
}
