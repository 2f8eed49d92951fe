import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '@kura/audit';
import { classificationName, Clock, DomainError, ErrorCode } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { SYSTEM_ACTOR_NAME, type Actor } from './actor';
import type { GrantStatus, PrivilegeGrantEntity } from './privilege-grant.entity';
import { PrivilegeGrantRepository } from './privilege-grant.repository';
import { toGrantView, type PrivilegeGrantView } from './privilege-grant.view';
import { adminConflict, applyGrant, changedFields, privilegesOf, type Privileges, type RequestedGrant, SegregationOfDutiesError } from './privilege-rules';
import { SessionRepository } from './session.repository';
import { UserRepository } from './user.repository';

/** Who decides a grant: an administrator over the API, or an operator at the CLI (lone-administrator installations only). */
type Decider = { actor: Actor } | { operator: string };

/** How far back the access review lists decided grants. */
const RECENT_GRANTS_DAYS = 90;
const RECENT_GRANTS_LIMIT = 500;

function shownPrivileges(p: Privileges) {
  return { ...p, clearance: classificationName(p.clearance) };
}

/**
 * A.5.3 / A.5.18: privileges that open My Number data, SECRET records, disposition or user
 * administration take two administrators. One asks (POST/PATCH /users), another approves here;
 * until then the privilege is not effective. Every step is audited.
 */
@Injectable()
export class PrivilegeGrantsService {
  constructor(
    private readonly grants: PrivilegeGrantRepository,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly audit: AuditService,
    private readonly config: KuraConfig,
    private readonly clock: Clock,
  ) {}

  /** Opens a pending grant per privilege (an open one for the same privilege is reused), audited in the caller's transaction. */
  async request(manager: EntityManager, actor: Actor, user: { id: string; username: string }, wanted: RequestedGrant[], now: Date): Promise<void> {
    for (const w of wanted) {
      if (await this.grants.findPending(manager, user.id, w.privilege, w.value)) continue;
      const grant = await this.grants.insert(manager, {
        userId: user.id,
        privilege: w.privilege,
        value: w.value,
        requestedBy: actor.id,
        requestedByUsername: actor.username,
        requestedAt: now,
        expiresAt: new Date(now.getTime() + this.config.privilegeGrantTtlHours * 3600_000),
      });
      await this.audit.append(manager, {
        actor, action: 'user.grant.request', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { grantId: grant.id, username: user.username, privilege: grant.privilege, value: grant.value, expiresAt: grant.expiresAt.toISOString() },
      });
    }
  }

  /** Withdraws pending grants that a later change no longer asks for (or a deactivation ends), audited in the caller's transaction. */
  async withdraw(manager: EntityManager, actor: Actor, user: { id: string; username: string }, grants: PrivilegeGrantEntity[], now: Date, reason: 'superseded' | 'deactivated'): Promise<void> {
    for (const grant of grants) {
      await this.grants.decide(manager, grant.id, { status: 'withdrawn', decidedBy: actor.id, decidedByUsername: actor.username, decidedAt: now, comment: reason });
      await this.audit.append(manager, {
        actor, action: 'user.grant.withdraw', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { grantId: grant.id, username: user.username, privilege: grant.privilege, value: grant.value, reason },
      });
    }
  }

  pendingEntities(manager: EntityManager, userId: string): Promise<PrivilegeGrantEntity[]> {
    return this.grants.pendingFor([userId], manager);
  }

  /** Pending grants of the given users, by user id. */
  async pendingViews(users: Array<{ id: string; username: string }>, manager?: EntityManager): Promise<Map<string, PrivilegeGrantView[]>> {
    const names = new Map(users.map((u) => [u.id, u.username]));
    const byUser = new Map<string, PrivilegeGrantView[]>(users.map((u) => [u.id, []]));
    for (const g of await this.grants.pendingFor([...names.keys()], manager)) byUser.get(g.userId)?.push(toGrantView(g, names.get(g.userId) ?? null));
    return byUser;
  }

  /** Grants past their expiry become `expired` (audited as the system); called before anything reads or decides grants. */
  async expireDue(): Promise<void> {
    await this.grants.dataSource.transaction(async (manager) => {
      const expired = await this.grants.expireDue(manager, this.clock.now());
      for (const g of expired) {
        await this.audit.append(manager, {
          actor: null, actorName: SYSTEM_ACTOR_NAME, action: 'user.grant.expire', outcome: 'allowed', targetType: 'User', targetId: g.userId,
          details: { grantId: g.id, privilege: g.privilege, value: g.value, requestedBy: g.requestedByUsername, expiresAt: g.expiresAt.toISOString() },
        });
      }
    });
  }

  /** Newest first; audited as a read of who holds (or may soon hold) what. `reader` is an administrator or the operator at the CLI. */
  async list(reader: Actor | { operator: string }, filter: { status?: GrantStatus; userId?: string }): Promise<{ items: PrivilegeGrantView[] }> {
    await this.expireDue();
    const items = await this.views(await this.grants.list(filter));
    const who = 'operator' in reader ? { actor: null, actorName: reader.operator } : { actor: reader };
    await this.audit.record({ ...who, action: 'user.grant.list', outcome: 'allowed', targetType: 'PrivilegeGrant', details: { ...filter, count: items.length } });
    return { items };
  }

  /** For the access review: every pending grant and those decided in the last 90 days. */
  async forReview(): Promise<{ pending: PrivilegeGrantView[]; recent: PrivilegeGrantView[] }> {
    await this.expireDue();
    const since = new Date(this.clock.now().getTime() - RECENT_GRANTS_DAYS * 24 * 3600_000);
    const [pending, recent] = await Promise.all([this.grants.list({ status: 'pending' }), this.grants.list({ decidedSince: since, limit: RECENT_GRANTS_LIMIT })]);
    return { pending: await this.views(pending), recent: await this.views(recent) };
  }

  approve(actor: Actor, id: string, comment = ''): Promise<PrivilegeGrantView> {
    return this.decide({ actor }, id, 'approved', comment);
  }

  reject(actor: Actor, id: string, comment = ''): Promise<PrivilegeGrantView> {
    return this.decide({ actor }, id, 'rejected', comment);
  }

  /**
   * The installation path (`npm run cli -- users approve`): while the requester is the only
   * active administrator nobody else can approve, so the operator who runs the service does.
   * Refused as soon as a second administrator exists: four-eyes is then theirs.
   */
  approveByOperator(operator: string, id: string, comment = ''): Promise<PrivilegeGrantView> {
    return this.decide({ operator }, id, 'approved', comment);
  }

  rejectByOperator(operator: string, id: string, comment = ''): Promise<PrivilegeGrantView> {
    return this.decide({ operator }, id, 'rejected', comment);
  }

  private async decide(decider: Decider, id: string, outcome: 'approved' | 'rejected', comment: string): Promise<PrivilegeGrantView> {
    await this.expireDue();
    const found = await this.grants.findById(id);
    if (!found) throw DomainError.notFound('privilege grant');
    const action = outcome === 'approved' ? 'user.grant.approve' : 'user.grant.reject';
    const who = 'actor' in decider ? { actor: decider.actor } : { actor: null, actorName: decider.operator };
    try {
      return await this.grants.dataSource.transaction(async (manager) => {
        // Same lock order as a user update (user row, then grants), so the two never deadlock.
        const user = await this.users.findByIdForUpdate(manager, found.userId);
        const grant = await this.grants.findByIdForUpdate(manager, id);
        if (!user || !grant) throw DomainError.notFound('privilege grant');
        const now = this.clock.now();
        if (grant.status !== 'pending') throw new DomainError(ErrorCode.Conflict, `The grant is already ${grant.status}.`, { grantStatus: grant.status });
        if (grant.expiresAt <= now) throw new DomainError(ErrorCode.Conflict, 'The grant has expired; request it again.', { grantStatus: 'expired' });
        let sessionsEnded = 0;
        let changes: Record<string, { old: unknown; new: unknown }> = {};
        if (outcome === 'approved') {
          await this.assertMayApprove(manager, decider, grant);
          if (!user.active) throw new DomainError(ErrorCode.Conflict, 'The user is deactivated.');
          const before = privilegesOf(user);
          const after = applyGrant(before, grant);
          const conflict = adminConflict(after);
          if (conflict) throw new DomainError(ErrorCode.Conflict, `admin cannot be combined with content, records or audit privileges (${conflict}).`);
          const changed = changedFields(before, after);
          changes = Object.fromEntries(changed.map((f) => [f, { old: shownPrivileges(before)[f], new: shownPrivileges(after)[f] }]));
          if (changed.length) {
            await this.users.update(manager, user.id, { ...after, privilegesChangedAt: now, updatedAt: now });
            // The holder's open sessions were opened with the old privileges: end them.
            sessionsEnded = await this.sessions.endAllForUser(manager, user.id, now, 'privileges_changed');
          }
        }
        await this.grants.decide(manager, grant.id, {
          status: outcome,
          decidedBy: 'actor' in decider ? decider.actor.id : null,
          decidedByUsername: 'actor' in decider ? decider.actor.username : decider.operator,
          decidedAt: now,
          comment,
        });
        await this.audit.append(manager, {
          ...who, action, outcome: 'allowed', targetType: 'User', targetId: user.id,
          details: {
            grantId: grant.id, username: user.username, privilege: grant.privilege, value: grant.value, requestedBy: grant.requestedByUsername, comment,
            ...(outcome === 'approved' ? { changes, sessionsEnded } : {}),
            ...('operator' in decider ? { operator: true } : {}),
          },
        });
        const decided = await this.grants.findById(grant.id, manager);
        return toGrantView(decided!, user.username);
      });
    } catch (err) {
      if (err instanceof SegregationOfDutiesError) {
        await this.audit.record({
          ...who, action, outcome: 'denied', targetType: 'User', targetId: found.userId,
          details: { grantId: found.id, privilege: found.privilege, value: found.value, reason: err.reason },
        });
      }
      throw err;
    }
  }

  private async assertMayApprove(manager: EntityManager, decider: Decider, grant: PrivilegeGrantEntity): Promise<void> {
    if ('actor' in decider) {
      if (decider.actor.id === grant.requestedBy) throw new SegregationOfDutiesError('own_request', 'A grant must be approved by an administrator other than the one who requested it.');
      if (decider.actor.id === grant.userId) throw new SegregationOfDutiesError('own_privileges', 'Nobody approves a grant of their own privileges.');
      return;
    }
    if ((await this.users.countOtherActiveAdmins(manager, grant.requestedBy)) > 0) {
      throw new SegregationOfDutiesError('second_admin_exists', 'Another active administrator can approve this grant over the API; the operator path is only for a lone administrator.');
    }
  }

  private async views(grants: PrivilegeGrantEntity[]): Promise<PrivilegeGrantView[]> {
    const names = await this.users.usernamesOf(grants.map((g) => g.userId));
    return grants.map((g) => toGrantView(g, names.get(g.userId) ?? null));
  }
}
