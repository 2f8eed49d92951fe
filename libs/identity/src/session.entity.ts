import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type SessionEndReason = 'logout' | 'privileges_changed' | 'deactivated' | 'password_changed' | 'password_reset';

/** A server-side session. Only the SHA-256 of the bearer token is stored, so a database read does not yield usable tokens. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'token_sha256', type: 'text' })
  tokenSha256!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'end_reason', type: 'text', nullable: true })
  endReason!: SessionEndReason | null;
}
