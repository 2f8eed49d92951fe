import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintAsNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/** One immutable version (SPEC §2). Only the wrapped key ever changes: rotation or crypto-erase. */
@Entity({ name: 'document_versions' })
export class DocumentVersionEntity {
  /** Also the associated data of the data-key wrap and of every content chunk. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'integer' })
  number!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size!: number;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ name: 'media_type', type: 'text' })
  mediaType!: string;

  @Column({ name: 'original_filename', type: 'text' })
  originalFilename!: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId!: string;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'restored_from', type: 'integer', nullable: true })
  restoredFrom!: number | null;

  @Column({ name: 'storage_key', type: 'text' })
  storageKey!: string;

  /** null once crypto-erased by certified deletion. */
  @Column({ name: 'wrapped_key', type: 'bytea', nullable: true })
  wrappedKey!: Buffer | null;

  @Column({ name: 'kek_id', type: 'text' })
  kekId!: string;

  @Column({ name: 'nonce_prefix', type: 'bytea' })
  noncePrefix!: Buffer;

  @Column({ name: 'chunk_size', type: 'integer' })
  chunkSize!: number;
}
