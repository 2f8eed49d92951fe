import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { SessionEndReason, SessionEntity } from './session.entity';
import { UserEntity } from './user.entity';

@Injectable()
export class SessionRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(SessionEntity);
  }

  insert(manager: EntityManager, session: Omit<SessionEntity, 'id' | 'endedAt' | 'endReason'>): Promise<SessionEntity> {
    const repo = this.repo(manager);
    return repo.save(repo.create({ ...session, endedAt: null, endReason: null }));
  }

  /** The open session for a token hash, with its user's current row (privileges are read fresh on every request). */
  async findOpenByTokenHash(tokenSha256: string): Promise<{ session: SessionEntity; user: UserEntity } | null> {
    // One round trip on every authenticated request: the session joined to its user.
    const found = (await this.repo()
      .createQueryBuilder('s')
      .innerJoinAndMapOne('s.user', UserEntity, 'u', 'u.id = s.userId')
      .where('s.tokenSha256 = :tokenSha256 AND s.endedAt IS NULL', { tokenSha256 })
      .limit(1)
      .getOne()) as (SessionEntity & { user: UserEntity }) | null;
    if (!found) return null;
    const { user, ...session } = found;
    return { session: Object.assign(new SessionEntity(), session), user };
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.repo().update({ id, endedAt: IsNull() }, { lastSeenAt: at });
  }

  async end(manager: EntityManager, id: string, at: Date, reason: SessionEndReason): Promise<boolean> {
    const result = await this.repo(manager).update({ id, endedAt: IsNull() }, { endedAt: at, endReason: reason });
    return (result.affected ?? 0) > 0;
  }

  /** Ends every open session of a user; returns how many were open. */
  async endAllForUser(manager: EntityManager, userId: string, at: Date, reason: SessionEndReason, exceptSessionId?: string): Promise<number> {
    const qb = this.repo(manager)
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ endedAt: at, endReason: reason })
      .where('user_id = :userId AND ended_at IS NULL', { userId });
    if (exceptSessionId) qb.andWhere('id <> :exceptSessionId', { exceptSessionId });
    const result = await qb.execute();
    return result.affected ?? 0;
  }

  /**
   * Deletes up to `limit` sessions that stopped working before `cutoff`: ended (logout,
   * privilege change…) or, never ended, past their absolute expiry or their idle timeout.
   * A batch at a time keeps the row locks short; concurrent callers skip each other's rows.
   */
  async deleteDeadBefore(cutoff: Date, idleTimeoutSeconds: number, limit: number): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions
          WHERE coalesce(ended_at, least(expires_at, last_seen_at + make_interval(secs => $2))) < $1
          LIMIT $3 FOR UPDATE SKIP LOCKED)`,
      [cutoff, idleTimeoutSeconds, limit],
    )) as [unknown, number];
    return affected;
  }
}
