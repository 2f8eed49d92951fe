import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '@kura/audit';
import { classificationName, Clock, DomainError, ErrorCode, parseClassification } from '@kura/common';
import { Actor, Designation, Role } from './actor';
import type { CreateUserDto, UpdateUserDto } from './dto/user.dto';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { SessionRepository } from './session.repository';
import type { UserEntity } from './user.entity';
import { UserRepository } from './user.repository';
import { toUserView, UserView } from './user.view';

/** The privilege attributes whose every change is audited with old and new values (A.5.18). */
interface Privileges {
  roles: Role[];
  clearance: number;
  departments: string[];
  designations: Designation[];
}

function privilegesOf(user: Pick<UserEntity, keyof Privileges>): Privileges {
  return {
    roles: [...user.roles].sort(),
    clearance: user.clearance,
    departments: [...user.departments].sort(),
    designations: [...user.designations].sort(),
  };
}

function shown(field: keyof Privileges, value: Privileges[keyof Privileges]): unknown {
  return field === 'clearance' ? classificationName(value as number) : value;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateUserDto): Promise<UserView> {
    this.policy.assertAcceptable(dto.password, dto.username);
    const clearance = parseClassification(dto.clearance)!;
    const passwordHash = await this.hasher.hash(dto.password);
    return this.users.dataSource.transaction(async (manager) => {
      if (await this.users.usernameTaken(manager, dto.username)) {
        throw new DomainError(ErrorCode.Conflict, 'A user with this username already exists.');
      }
      const now = this.clock.now();
      const user = await this.users.insert(manager, {
        username: dto.username,
        displayName: dto.displayName,
        passwordHash,
        roles: [...dto.roles].sort(),
        clearance,
        departments: [...dto.departments].sort(),
        designations: [...dto.designations].sort(),
        active: true,
        // The administrator chose this password, so it is known to two people until changed.
        mustChangePassword: true,
        privilegesChangedAt: now,
        createdAt: now,
        updatedAt: now,
      });
      const granted = privilegesOf(user);
      await this.audit.append(manager, {
        actor, action: 'user.create', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { username: user.username, roles: granted.roles, clearance: classificationName(granted.clearance), departments: granted.departments, designations: granted.designations },
      });
      return toUserView(user, now);
    });
  }

  async list(): Promise<{ items: UserView[] }> {
    const now = this.clock.now();
    return { items: (await this.users.list()).map((u) => toUserView(u, now)) };
  }

  async get(id: string): Promise<UserView> {
    const user = await this.users.findById(id);
    if (!user) throw DomainError.notFound('user');
    return toUserView(user, this.clock.now());
  }

  async update(actor: Actor, id: string, dto: UpdateUserDto): Promise<UserView> {
    if (dto.active === false) {
      throw DomainError.validation('Deactivate a user with POST /users/:id/deactivate.', [{ field: 'active', messages: ['active may only be set to true here'] }]);
    }
    const existing = await this.users.findById(id);
    if (!existing) throw DomainError.notFound('user');
    if (dto.password !== undefined) this.policy.assertAcceptable(dto.password, existing.username);
    const passwordHash = dto.password !== undefined ? await this.hasher.hash(dto.password) : undefined;
    return this.users.dataSource.transaction(async (manager) => {
      const user = await this.users.findByIdForUpdate(manager, id);
      if (!user) throw DomainError.notFound('user');
      const now = this.clock.now();
      const before = privilegesOf(user);
      const after: Privileges = {
        roles: dto.roles ? [...dto.roles].sort() : before.roles,
        clearance: dto.clearance !== undefined ? parseClassification(dto.clearance)! : before.clearance,
        departments: dto.departments ? [...dto.departments].sort() : before.departments,
        designations: dto.designations ? [...dto.designations].sort() : before.designations,
      };
      const changes: Record<string, { old: unknown; new: unknown }> = {};
      for (const field of Object.keys(before) as Array<keyof Privileges>) {
        const a = before[field];
        const b = after[field];
        const differs = Array.isArray(a) ? !sameSet(a, b as string[]) : a !== b;
        if (differs) changes[field] = { old: shown(field, a), new: shown(field, b) };
      }
      const reactivate = dto.active === true && !user.active;
      if (reactivate) changes.active = { old: false, new: true };
      if (changes.roles && before.roles.includes(Role.Admin) && !after.roles.includes(Role.Admin) && user.active) {
        await this.assertNotLastAdmin(manager, user.id);
      }
      const privilegesChanged = Object.keys(changes).length > 0;
      const displayNameChanged = dto.displayName !== undefined && dto.displayName !== user.displayName;
      await this.users.update(manager, user.id, {
        ...after,
        ...(dto.displayName !== undefined ? { displayName: dto.displayName } : {}),
        ...(passwordHash ? { passwordHash, mustChangePassword: true, failedAttempts: 0, lockedUntil: null } : {}),
        ...(reactivate ? { active: true, deactivatedAt: null } : {}),
        ...(privilegesChanged ? { privilegesChangedAt: now } : {}),
        updatedAt: now,
      });
      // A session carries the privileges it was opened with only in the holder's mind: end it, so the next request re-authenticates.
      let sessionsEnded = 0;
      if (privilegesChanged) sessionsEnded += await this.sessions.endAllForUser(manager, user.id, now, 'privileges_changed');
      if (passwordHash) sessionsEnded += await this.sessions.endAllForUser(manager, user.id, now, 'password_reset');
      if (privilegesChanged || displayNameChanged || passwordHash) {
        await this.audit.append(manager, {
          actor, action: 'user.update', outcome: 'allowed', targetType: 'User', targetId: user.id,
          details: {
            username: user.username,
            changes: {
              ...changes,
              ...(displayNameChanged ? { displayName: { old: user.displayName, new: dto.displayName } } : {}),
            },
            passwordReset: Boolean(passwordHash),
            sessionsEnded,
          },
        });
      }
      const updated = await this.users.findById(user.id, manager);
      return toUserView(updated!, now);
    });
  }

  async deactivate(actor: Actor, id: string): Promise<UserView> {
    return this.users.dataSource.transaction(async (manager) => {
      const user = await this.users.findByIdForUpdate(manager, id);
      if (!user) throw DomainError.notFound('user');
      const now = this.clock.now();
      if (!user.active) return toUserView(user, now);
      if (user.roles.includes(Role.Admin)) await this.assertNotLastAdmin(manager, user.id);
      await this.users.update(manager, user.id, { active: false, deactivatedAt: now, updatedAt: now, privilegesChangedAt: now });
      const sessionsEnded = await this.sessions.endAllForUser(manager, user.id, now, 'deactivated');
      await this.audit.append(manager, {
        actor, action: 'user.deactivate', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { username: user.username, changes: { active: { old: true, new: false } }, privileges: { ...privilegesOf(user), clearance: classificationName(user.clearance) }, sessionsEnded },
      });
      const updated = await this.users.findById(user.id, manager);
      return toUserView(updated!, now);
    });
  }

  /** Losing the last administrator would leave nobody able to manage users. */
  private async assertNotLastAdmin(manager: EntityManager, userId: string): Promise<void> {
    if ((await this.users.countOtherActiveAdmins(manager, userId)) === 0) {
      throw new DomainError(ErrorCode.Conflict, 'This is the last active administrator; appoint another first.');
    }
  }
}
