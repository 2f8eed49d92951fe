import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type GrantPrivilege = 'role' | 'designation' | 'clearance';
export type GrantStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'withdrawn';
export const GRANT_STATUSES: readonly GrantStatus[] = ['pending', 'approved', 'rejected', 'expired', 'withdrawn'];

/** One privilege asked for one user, effective only once a second administrator approves it. */
@Entity({ name: 'privilege_grants' })
export class PrivilegeGrantEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ type: 'text' })
  privilege!: GrantPrivilege;

  /** A role or designation name, or the clearance level name (`SECRET`). */
  @Column({ type: 'text' })
  value!: string;

  @Column({ type: 'text' })
  status!: GrantStatus;

  @Column({ name: 'requested_by', type: 'uuid' })
  requestedBy!: string;

  @Column({ name: 'requested_by_username', type: 'text' })
  requestedByUsername!: string;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** Null when the system (expiry) or an operator at the CLI decided. */
  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy!: string | null;

  @Column({ name: 'decided_by_username', type: 'text', nullable: true })
  decidedByUsername!: string | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ type: 'text' })
  comment!: string;
}
