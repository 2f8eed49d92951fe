import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Role } from './actor';
import { UserEntity } from './user.entity';

export type NewUser = Omit<UserEntity, 'id' | 'lastLoginAt' | 'failedAttempts' | 'lockedUntil' | 'deactivatedAt'>;

@Injectable()
export class UserRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(UserEntity);
  }

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repo(manager).findOne({ where: { id } });
  }

  /** Locks the row until the transaction ends: concurrent logins cannot both slip under the lockout threshold. */
  async findByUsernameForUpdate(manager: EntityManager, username: string): Promise<UserEntity | null> {
    const rows = await this.repo(manager)
      .createQueryBuilder('u')
      .where('lower(u.username) = lower(:username)', { username })
      .setLock('pessimistic_write')
      .getMany();
    return rows[0] ?? null;
  }

  async findByIdForUpdate(manager: EntityManager, id: string): Promise<UserEntity | null> {
    const rows = await this.repo(manager).createQueryBuilder('u').where('u.id = :id', { id }).setLock('pessimistic_write').getMany();
    return rows[0] ?? null;
  }

  async usernameTaken(manager: EntityManager, username: string): Promise<boolean> {
    return (await this.repo(manager).createQueryBuilder('u').where('lower(u.username) = lower(:username)', { username }).getCount()) > 0;
  }

  /** id → username for the given ids (views of grants name both sides). */
  async usernamesOf(ids: string[], manager?: EntityManager): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.repo(manager).find({ select: { id: true, username: true }, where: { id: In([...new Set(ids)]) } });
    return new Map(rows.map((u) => [u.id, u.username]));
  }

  list(): Promise<UserEntity[]> {
    return this.repo().find({ order: { username: 'ASC' } });
  }

  listActive(manager?: EntityManager): Promise<UserEntity[]> {
    return this.repo(manager).find({ where: { active: true }, order: { username: 'ASC' } });
  }

  /** Active administrators other than `exceptId`, counted under lock so two demotions cannot both pass. */
  async countOtherActiveAdmins(manager: EntityManager, exceptId: string): Promise<number> {
    const rows = (await manager.query(
      `SELECT id FROM users WHERE active AND $1 = ANY(roles) AND id <> $2 FOR UPDATE`,
      [Role.Admin, exceptId],
    )) as unknown[];
    return rows.length;
  }

  insert(manager: EntityManager, user: NewUser): Promise<UserEntity> {
    const repo = this.repo(manager);
    return repo.save(repo.create({ ...user, failedAttempts: 0, lockedUntil: null, lastLoginAt: null, deactivatedAt: null }));
  }

  async update(manager: EntityManager, id: string, changes: Partial<Omit<UserEntity, 'id'>>): Promise<void> {
    await this.repo(manager).update({ id }, changes);
  }
}
