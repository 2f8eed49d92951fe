import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface FailureCount {
  failures: number;
  lockedUntil: Date | null;
  /** This failure was made while a lock was already in force (a refusal, not a new guess). */
  whileLocked: boolean;
  /** This failure set the lock. */
  locked: boolean;
}

/** Failed logins per (lower-cased username, client address). */
@Injectable()
export class LoginFailureRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async lockedUntil(username: string, clientAddress: string, now: Date): Promise<Date | null> {
    const rows = (await this.dataSource.query(
      `SELECT locked_until FROM login_failures WHERE username = lower($1) AND client_address = $2 AND locked_until > $3`,
      [username, clientAddress, now],
    )) as Array<{ locked_until: Date }>;
    return rows[0]?.locked_until ?? null;
  }

  /**
   * Counts one failure in a single statement (no transaction, no read-then-write race):
   * a lock that has run out starts a fresh count; reaching `threshold` sets the lock.
   */
  async recordFailure(username: string, clientAddress: string, now: Date, threshold: number, lockoutMs: number): Promise<FailureCount> {
    const until = new Date(now.getTime() + lockoutMs);
    const rows = (await this.dataSource.query(
      `INSERT INTO login_failures AS f (username, client_address, failures, locked_until, updated_at)
       VALUES (lower($1), $2, 1, CASE WHEN $4 <= 1 THEN $5::timestamptz END, $3)
       ON CONFLICT (username, client_address) DO UPDATE SET
         failures = CASE WHEN f.locked_until IS NOT NULL AND f.locked_until <= $3 THEN 1 ELSE f.failures + 1 END,
         locked_until = CASE
           WHEN f.locked_until > $3 THEN f.locked_until
           WHEN (CASE WHEN f.locked_until IS NOT NULL AND f.locked_until <= $3 THEN 1 ELSE f.failures + 1 END) >= $4 THEN $5::timestamptz
           ELSE NULL END,
         updated_at = $3
       RETURNING failures, locked_until`,
      [username, clientAddress, now, threshold, until],
    )) as Array<{ failures: number; locked_until: Date | null }>;
    const row = rows[0];
    const whileLocked = row.failures > threshold && row.locked_until !== null;
    return { failures: row.failures, lockedUntil: row.locked_until, whileLocked, locked: row.failures === threshold && row.locked_until !== null };
  }

  async clear(username: string, clientAddress: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_failures WHERE username = lower($1) AND client_address = $2`, [username, clientAddress]);
  }

  /** An administrator's password reset unlocks the account from every address. */
  /** Every address's count and lock for this username; inside the caller's transaction when given one. */
  async clearUser(username: string, manager?: EntityManager): Promise<void> {
    await (manager ?? this.dataSource).query(`DELETE FROM login_failures WHERE username = lower($1)`, [username]);
  }
}
