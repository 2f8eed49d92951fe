import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '@kura/audit';
import { classificationName, Clock, DomainError, ErrorCode, parseClassification } from '@kura/common';
import { Actor, Role } from './actor';
import type { CreateUserDto, UpdateUserDto } from './dto/user.dto';
import { LoginFailureRepository } from './login-failure.repository';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { PrivilegeGrantsService } from './privilege-grants.service';
import type { PrivilegeGrantView } from './privilege-grant.view';
import {
  adminConflict,
  changedFields,
  PRIVILEGE_FIELDS,
  privilegesOf,
  type Privileges,
  SegregationOfDutiesError,
  splitRequest,
  stillRequested,
  UNGATED_CLEARANCE_MAX,
} from './privilege-rules';
import { SessionRepository } from './session.repository';
import { UserRepository } from './user.repository';
import { toUserView, UserView } from './user.view';

/** A user as the administration routes show it: with the grants that still wait for a second administrator. */
export type AdministeredUserView = UserView & { pendingGrants: PrivilegeGrantView[] };

function shown(field: keyof Privileges, value: Privileges[keyof Privileges]): unknown {
  return field === 'clearance' ? classificationName(value as number) : value;
}

function shownPrivileges(p: Privileges) {
  return { roles: p.roles, clearance: classificationName(p.clearance), departments: p.departments, designations: p.designations };
}

const GRANT_FIELD = { role: 'roles', designation: 'designations', clearance: 'clearance' } as const;

/** 400 when the request itself combines admin with another privilege; 409 when the combination arises with what the user already holds. */
function assertAdminAlone(requested: Pick<Privileges, 'roles' | 'designations'>, given: Partial<Pick<Privileges, 'roles' | 'designations'>>): void {
  const inRequest = adminConflict({ roles: given.roles ?? [], designations: given.designations ?? [] });
  if (inRequest) {
    throw DomainError.validation('admin cannot be combined with other roles or designations (segregation of duties).', [
      { field: inRequest, messages: [inRequest === 'roles' ? 'admin cannot be combined with staff, records_officer or auditor' : 'an admin cannot hold designations'] },
    ]);
  }
  const inResult = adminConflict(requested);
  if (inResult) {
    throw new DomainError(ErrorCode.Conflict, `The change would combine admin with the user's ${inResult === 'roles' ? 'other roles' : 'designations'}; remove those first (segregation of duties).`);
  }
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly failures: LoginFailureRepository,
    private readonly grants: PrivilegeGrantsService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateUserDto): Promise<AdministeredUserView> {
    this.policy.assertAcceptable(dto.password, dto.username);
    const requested = privilegesOf({ roles: dto.roles, clearance: parseClassification(dto.clearance)!, departments: dto.departments, designations: dto.designations });
    assertAdminAlone(requested, dto);
    // A new user starts with no gated privilege; a requested SECRET starts at the highest level one administrator grants.
    const start = privilegesOf({ roles: [], designations: [], departments: [], clearance: Math.min(requested.clearance, UNGATED_CLEARANCE_MAX) });
    const { effective, pending } = splitRequest(start, requested);
    const passwordHash = await this.hasher.hash(dto.password);
    await this.grants.expireDue();
    return this.users.dataSource.transaction(async (manager) => {
      if (await this.users.usernameTaken(manager, dto.username)) {
        throw new DomainError(ErrorCode.Conflict, 'A user with this username already exists.');
      }
      const now = this.clock.now();
      const user = await this.users.insert(manager, {
        username: dto.username,
        displayName: dto.displayName,
        passwordHash,
        ...effective,
        active: true,
        // The administrator chose this password, so it is known to two people until changed.
        mustChangePassword: true,
        privilegesChangedAt: now,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.append(manager, {
        actor, action: 'user.create', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { username: user.username, ...shownPrivileges(effective), pendingGrants: pending.map((g) => `${g.privilege}:${g.value}`) },
      });
      await this.grants.request(manager, actor, user, pending, now);
      return this.administeredView(manager, user.id, now);
    });
  }

  async list(actor: Actor): Promise<{ items: AdministeredUserView[] }> {
    await this.grants.expireDue();
    const now = this.clock.now();
    const users = await this.users.list();
    const pending = await this.grants.pendingViews(users);
    const items = users.map((u) => ({ ...toUserView(u, now), pendingGrants: pending.get(u.id) ?? [] }));
    // A.5.18 / A.8.15: who looked at who holds what is itself on the record.
    await this.audit.record({ actor, action: 'user.list', outcome: 'allowed', targetType: 'User', details: { count: items.length } });
    return { items };
  }

  /** One user, audited: the administration route. */
  async read(actor: Actor, id: string): Promise<AdministeredUserView> {
    await this.grants.expireDue();
    const user = await this.users.findById(id);
    if (!user) throw DomainError.notFound('user');
    const view = await this.administeredView(this.users.dataSource.manager, id, this.clock.now());
    await this.audit.record({ actor, action: 'user.read', outcome: 'allowed', targetType: 'User', targetId: id, details: { username: user.username } });
    return view;
  }

  /** The caller's own account (GET /auth/me): their own privileges, not an administrative read. */
  async get(id: string): Promise<UserView> {
    const user = await this.users.findById(id);
    if (!user) throw DomainError.notFound('user');
    return toUserView(user, this.clock.now());
  }

  async update(actor: Actor, id: string, dto: UpdateUserDto): Promise<AdministeredUserView> {
    if (dto.active === false) {
      throw DomainError.validation('Deactivate a user with POST /users/:id/deactivate.', [{ field: 'active', messages: ['active may only be set to true here'] }]);
    }
    const existing = await this.users.findById(id);
    if (!existing) throw DomainError.notFound('user');
    if (dto.password !== undefined) this.policy.assertAcceptable(dto.password, existing.username);
    const passwordHash = dto.password !== undefined ? await this.hasher.hash(dto.password) : undefined;
    await this.grants.expireDue();
    try {
      return await this.users.dataSource.transaction(async (manager) => {
        const user = await this.users.findByIdForUpdate(manager, id);
        if (!user) throw DomainError.notFound('user');
        const now = this.clock.now();
        const before = privilegesOf(user);
        const requested = privilegesOf({
          roles: dto.roles ?? before.roles,
          clearance: dto.clearance !== undefined ? parseClassification(dto.clearance)! : before.clearance,
          departments: dto.departments ?? before.departments,
          designations: dto.designations ?? before.designations,
        });
        // A.5.3: nobody changes their own privileges, not even an administrator.
        if (actor.id === user.id && changedFields(before, requested).length > 0) {
          throw new SegregationOfDutiesError('own_privileges', 'Nobody changes their own roles, clearance, departments or designations; ask another administrator.');
        }
        assertAdminAlone(requested, dto);
        const { effective: after, pending } = splitRequest(before, requested);

        const changes: Record<string, { old: unknown; new: unknown }> = {};
        for (const field of changedFields(before, after)) changes[field] = { old: shown(field, before[field]), new: shown(field, after[field]) };
        const reactivate = dto.active === true && !user.active;
        if (reactivate) changes.active = { old: false, new: true };
        if (changes.roles && before.roles.includes(Role.Admin) && !after.roles.includes(Role.Admin) && user.active) {
          // Two administrators demoting each other at once must not both succeed.
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
        if (passwordHash) {
          sessionsEnded += await this.sessions.endAllForUser(manager, user.id, now, 'password_reset');
          // A reset is how an administrator unlocks an account: from every address, not just the row's lock.
          await this.failures.clearUser(user.username, manager);
        }
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
        // What the request names replaces what was asked before: open grants it no longer asks for are withdrawn.
        const open = await this.grants.pendingEntities(manager, user.id);
        const superseded = open.filter((g) => dto[GRANT_FIELD[g.privilege]] !== undefined && !stillRequested(requested, g));
        await this.grants.withdraw(manager, actor, user, superseded, now, 'superseded');
        await this.grants.request(manager, actor, user, pending, now);
        return this.administeredView(manager, user.id, now);
      });
    } catch (err) {
      if (err instanceof SegregationOfDutiesError) {
        await this.audit.record({
          actor, action: 'user.update', outcome: 'denied', targetType: 'User', targetId: id,
          details: { username: existing.username, reason: err.reason, fields: PRIVILEGE_FIELDS.filter((f) => dto[f] !== undefined) },
        });
      }
      throw err;
    }
  }

  async deactivate(actor: Actor, id: string): Promise<AdministeredUserView> {
    await this.grants.expireDue();
    return this.users.dataSource.transaction(async (manager) => {
      const user = await this.users.findByIdForUpdate(manager, id);
      if (!user) throw DomainError.notFound('user');
      const now = this.clock.now();
      if (!user.active) return this.administeredView(manager, user.id, now);
      if (user.roles.includes(Role.Admin)) await this.assertNotLastAdmin(manager, user.id);
      await this.users.update(manager, user.id, { active: false, deactivatedAt: now, updatedAt: now, privilegesChangedAt: now });
      const sessionsEnded = await this.sessions.endAllForUser(manager, user.id, now, 'deactivated');
      await this.audit.append(manager, {
        actor, action: 'user.deactivate', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { username: user.username, changes: { active: { old: true, new: false } }, privileges: shownPrivileges(privilegesOf(user)), sessionsEnded },
      });
      await this.grants.withdraw(manager, actor, user, await this.grants.pendingEntities(manager, user.id), now, 'deactivated');
      return this.administeredView(manager, user.id, now);
    });
  }

  private async administeredView(manager: EntityManager, id: string, now: Date): Promise<AdministeredUserView> {
    const user = (await this.users.findById(id, manager))!;
    const pending = await this.grants.pendingViews([user], manager);
    return { ...toUserView(user, now), pendingGrants: pending.get(user.id) ?? [] };
  }

  /** Losing the last administrator would leave nobody able to manage users. */
  private async assertNotLastAdmin(manager: EntityManager, userId: string): Promise<void> {
    if ((await this.users.countOtherActiveAdmins(manager, userId)) === 0) {
      throw new DomainError(ErrorCode.Conflict, 'This is the last active administrator; appoint another first.');
    }
  }
}
