import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DocumentStatus } from './lifecycle/document-lifecycle';

export const DOCUMENT_KINDS = ['policy', 'procedure', 'record'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export const PERSONAL_DATA_MARKINGS = ['none', 'personal', 'specific'] as const;
export type PersonalDataMarking = (typeof PERSONAL_DATA_MARKINGS)[number];


/** An inventoried information asset (A.5.9): owner, classification, label, review date. */
@Entity({ name: 'documents' })
export class DocumentEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text' })
  kind!: DocumentKind;

  @Column({ type: 'smallint' })
  classification!: number;

  @Column({ type: 'text' })
  department!: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId!: string;

  @Column({ type: 'text', array: true })
  tags!: string[];

  @Column({ name: 'personal_data', type: 'text' })
  personalData!: PersonalDataMarking;

  @Column({ name: 'series_id', type: 'uuid', nullable: true })
  seriesId!: string | null;

  /** Changed only through DocumentLifecycle (lifecycle/), guarded by a trigger. */
  @Column({ type: 'text' })
  status!: DocumentStatus;

  @Column({ name: 'review_due_at', type: 'timestamptz', nullable: true })
  reviewDueAt!: Date | null;

  @Column({ name: 'current_version', type: 'integer' })
  currentVersion!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'last_accessed_at', type: 'timestamptz', nullable: true })
  lastAccessedAt!: Date | null;
}
