import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { GrantPrivilege, GrantStatus, PrivilegeGrantEntity } from './privilege-grant.entity';

export type NewGrant = Pick<PrivilegeGrantEntity, 'userId' | 'privilege' | 'value' | 'requestedBy' | 'requestedByUsername' | 'requestedAt' | 'expiresAt'>;
export type GrantDecision = Pick<PrivilegeGrantEntity, 'status' | 'decidedBy' | 'decidedByUsername' | 'decidedAt' | 'comment'>;

@Injectable()
export class PrivilegeGrantRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(PrivilegeGrantEntity);
  }

  findById(id: string, manager?: EntityManager): Promise<PrivilegeGrantEntity | null> {
    return this.repo(manager).findOne({ where: { id } });
  }

  async findByIdForUpdate(manager: EntityManager, id: string): Promise<PrivilegeGrantEntity | null> {
    const rows = await this.repo(manager).createQueryBuilder('g').where('g.id = :id', { id }).setLock('pessimistic_write').getMany();
    return rows[0] ?? null;
  }

  /** Newest first. */
  list(filter: { status?: GrantStatus; userId?: string; decidedSince?: Date; limit?: number }, manager?: EntityManager): Promise<PrivilegeGrantEntity[]> {
    const qb = this.repo(manager).createQueryBuilder('g');
    if (filter.status) qb.andWhere('g.status = :status', { status: filter.status });
    if (filter.userId) qb.andWhere('g.user_id = :userId', { userId: filter.userId });
    if (filter.decidedSince) qb.andWhere('g.decided_at >= :since', { since: filter.decidedSince });
    qb.orderBy('g.requested_at', 'DESC').addOrderBy('g.id', 'ASC');
    if (filter.limit) qb.take(filter.limit);
    return qb.getMany();
  }

  pendingFor(userIds: string[], manager?: EntityManager): Promise<PrivilegeGrantEntity[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.repo(manager).find({ where: { userId: In(userIds), status: 'pending' }, order: { requestedAt: 'ASC', id: 'ASC' } });
  }

  findPending(manager: EntityManager, userId: string, privilege: GrantPrivilege, value: string): Promise<PrivilegeGrantEntity | null> {
    return this.repo(manager).findOne({ where: { userId, privilege, value, status: 'pending' } });
  }

  insert(manager: EntityManager, grant: NewGrant): Promise<PrivilegeGrantEntity> {
    const repo = this.repo(manager);
    return repo.save(repo.create({ ...grant, status: 'pending', decidedBy: null, decidedByUsername: null, decidedAt: null, comment: '' }));
  }

  async decide(manager: EntityManager, id: string, decision: GrantDecision): Promise<void> {
    await this.repo(manager).update({ id, status: 'pending' }, decision);
  }

  /**
   * Marks pending grants past their expiry as expired and returns them. Rows another transaction
   * is deciding are skipped (that transaction sees the expiry itself).
   */
  async expireDue(manager: EntityManager, now: Date): Promise<PrivilegeGrantEntity[]> {
    const result = (await manager.query(
      `WITH due AS (
         SELECT id FROM privilege_grants WHERE status = 'pending' AND expires_at <= $1 FOR UPDATE SKIP LOCKED
       )
       UPDATE privilege_grants g SET status = 'expired', decided_at = $1, decided_by_username = 'system'
       FROM due WHERE g.id = due.id
       RETURNING g.id`,
      [now],
    )) as [Array<{ id: string }>, number] | Array<{ id: string }>;
    // The postgres driver answers an UPDATE as [rows, rowCount].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as Array<{ id: string }>;
    if (rows.length === 0) return [];
    return this.repo(manager).find({ where: { id: In(rows.map((r) => r.id)) }, order: { requestedAt: 'ASC' } });
  }
}
