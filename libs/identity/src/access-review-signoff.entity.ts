import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A reviewer's sign-off on the access review (A.5.18), bound to the exact snapshot reviewed. */
@Entity({ name: 'access_review_signoffs' })
export class AccessReviewSignoffEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'reviewer_id', type: 'uuid' })
  reviewerId!: string;

  @Column({ name: 'reviewer_username', type: 'text' })
  reviewerUsername!: string;

  @Column({ name: 'signed_at', type: 'timestamptz' })
  signedAt!: Date;

  @Column({ type: 'text' })
  comment!: string;

  @Column({ name: 'user_count', type: 'integer' })
  userCount!: number;

  @Column({ name: 'snapshot_sha256', type: 'text' })
  snapshotSha256!: string;
}
