import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode, requestContext } from '@kura/common';
import { KuraConfig } from '@kura/config';
import type { Actor } from './actor';
import { AuthRejectionTally } from './auth-rejection-tally';
import type { LoginResult } from './dto/auth.dto';
import { LoginFailureRepository } from './login-failure.repository';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { PasswordVerifyGate } from './password-verify-gate';
import { SessionRepository } from './session.repository';
import { UserRepository } from './user.repository';
import type { UserEntity } from './user.entity';

/** Why a bearer token was refused; audited, never shown to the caller. */
export type SessionRejection = 'missing' | 'malformed' | 'unknown' | 'ended' | 'expired' | 'idle' | 'inactive';

export type Authentication =
  | { ok: true; actor: Actor; mustChangePassword: boolean }
  | { ok: false; reason: SessionRejection; userId?: string; username?: string };

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
// One answer for unknown user, wrong password and locked account: the caller learns nothing about which.
const LOGIN_FAILED = 'The username or password is incorrect, or the account is temporarily locked.';

/** The client address the request context recorded (after `trust proxy`); `unknown` outside a request. */
function clientAddress(): string {
  return requestContext.current()?.clientAddress ?? 'unknown';
}

export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function toActor(user: UserEntity, sessionId: string): Actor {
  return {
    id: user.id,
    username: user.username,
    roles: [...user.roles],
    clearance: user.clearance,
    departments: [...user.departments],
    designations: [...user.designations],
    sessionId,
  };
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly config: KuraConfig,
    private readonly clock: Clock,
    private readonly failures: LoginFailureRepository,
    private readonly rejections: AuthRejectionTally,
    private readonly gate: PasswordVerifyGate,
  ) {}

  /**
   * A.8.5: the password is verified (scrypt, the slow part) outside any transaction, and
   * failures are counted per username and client address with one statement, so a flood of
   * bad logins holds no pooled connection or row lock, and a lockout shuts out the address
   * that guessed rather than the account's owner everywhere.
   */
  async login(username: string, password: string): Promise<LoginResult> {
    const attempted = username.slice(0, 64);
    const address = clientAddress();
    const now = this.clock.now();
    // Lookups and scrypt both inside the gate: a flood queues here, not on the connection pool.
    const { user, lockedUntil, valid } = await this.gate.run(async () => {
      const [found, locked] = await Promise.all([this.users.findByUsername(username), this.failures.lockedUntil(attempted, address, now)]);
      // While locked even the right password is refused, so guessing stops paying.
      if (locked || !found) return { user: found, lockedUntil: locked, valid: await this.hasher.verifyDummy(password).then(() => false) };
      return { user: found, lockedUntil: null, valid: await this.hasher.verify(password, found.passwordHash) };
    });
    if (lockedUntil) {
      // Counted into the periodic summary, not appended one by one.
      this.rejections.count({ action: 'auth.login', reason: 'locked', clientAddress: address, username: user?.username ?? attempted });
      throw new DomainError(ErrorCode.Unauthenticated, LOGIN_FAILED);
    }
    if (!user || !valid || !user.active) {
      await this.loginFailed(attempted, address, user, user ? (user.active ? 'wrong_password' : 'inactive') : 'unknown_user');
      throw new DomainError(ErrorCode.Unauthenticated, LOGIN_FAILED);
    }
    const who = { id: user.id, username: user.username };
    const token = randomBytes(32).toString('base64url');
    await this.users.dataSource.transaction(async (manager) => {
      const session = await this.sessions.insert(manager, {
        userId: user.id,
        tokenSha256: tokenSha256(token),
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.config.accessTokenTtlSeconds * 1000),
        lastSeenAt: now,
      });
      await this.users.update(manager, user.id, { failedAttempts: 0, lockedUntil: null, lastLoginAt: now });
      await this.audit.append(manager, {
        actor: who, action: 'auth.login', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { sessionId: session.id, mustChangePassword: user.mustChangePassword },
      });
    });
    await this.failures.clear(attempted, address);
    return { accessToken: token, tokenType: 'Bearer' as const, expiresIn: this.config.accessTokenTtlSeconds, mustChangePassword: user.mustChangePassword };
  }

  /**
   * Counts a failure for (username, address). The first failure of a run and the lockout are
   * appended to the audit chain; repeats and refusals once locked go into the periodic summary.
   * Returns whether the address is now locked out of the account.
   */
  private async loginFailed(attempted: string, address: string, user: UserEntity | null, reason: 'wrong_password' | 'inactive' | 'unknown_user' | 'wrong_current_password'): Promise<boolean> {
    const now = this.clock.now();
    const count = await this.failures.recordFailure(attempted, address, now, this.config.lockoutThreshold, this.config.lockoutMinutes * 60_000);
    if (count.whileLocked) {
      this.rejections.count({ action: 'auth.login', reason: 'locked', clientAddress: address, username: user?.username ?? attempted });
      return true;
    }
    const action = reason === 'wrong_current_password' ? 'auth.password_change' : 'auth.login';
    if (count.failures > 1 && !count.locked) {
      // The first failure of a run and the lockout are appended; the repeats in between are counted.
      this.rejections.count({ action, reason, clientAddress: address, username: user?.username ?? attempted });
      return false;
    }
    const who = user ? { id: user.id, username: user.username } : null;
    const target = user ? { targetType: 'User', targetId: user.id } : {};
    await this.users.dataSource.transaction(async (manager) => {
      await this.audit.append(manager, {
        actor: who, ...(who ? {} : { actorName: attempted }), action, outcome: 'failed', ...target,
        details: { reason, ...(user ? { failedAttempts: count.failures } : {}) },
      });
      if (count.locked) {
        // Shown to administrators as `locked` (some address is locked out of this account).
        if (user) await this.users.update(manager, user.id, { lockedUntil: count.lockedUntil });
        await this.audit.append(manager, {
          actor: who, ...(who ? {} : { actorName: attempted }), action: 'auth.lockout', outcome: 'denied', ...target,
          details: { failedAttempts: count.failures, lockedUntil: count.lockedUntil!.toISOString(), lockoutMinutes: this.config.lockoutMinutes, clientAddress: address },
        });
      }
    });
    return count.locked;
  }

  /** Resolves a bearer token to its actor; refreshes the idle timer on success. */
  async authenticate(token: string | undefined): Promise<Authentication> {
    if (!token) return { ok: false, reason: 'missing' };
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
    const found = await this.sessions.findOpenByTokenHash(tokenSha256(token));
    if (!found) return { ok: false, reason: 'unknown' };
    const { session, user } = found;
    const now = this.clock.now();
    const who = { userId: user.id, username: user.username };
    if (!user.active) return { ok: false, reason: 'inactive', ...who };
    if (now >= session.expiresAt) return { ok: false, reason: 'expired', ...who };
    if (now.getTime() - session.lastSeenAt.getTime() >= this.config.sessionIdleTimeoutSeconds * 1000) return { ok: false, reason: 'idle', ...who };
    // A last-seen write on every request would cost a commit per request. Writing it at most once
    // per tenth of the idle timeout (and at least every minute) keeps the idle check conservative:
    // a session may end up to that much early, never late.
    if (now.getTime() - session.lastSeenAt.getTime() >= Math.min(60_000, this.config.sessionIdleTimeoutSeconds * 100)) {
      await this.sessions.touch(session.id, now);
    }
    return { ok: true, actor: toActor(user, session.id), mustChangePassword: user.mustChangePassword };
  }

  async logout(actor: Actor): Promise<void> {
    await this.users.dataSource.transaction(async (manager) => {
      await this.sessions.end(manager, actor.sessionId, this.clock.now(), 'logout');
      await this.audit.append(manager, {
        actor, action: 'auth.logout', outcome: 'allowed', targetType: 'User', targetId: actor.id, details: { sessionId: actor.sessionId },
      });
    });
  }

  async changePassword(actor: Actor, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.users.findById(actor.id);
    if (!user) throw new DomainError(ErrorCode.Unauthenticated, 'Authentication is required.');
    const address = clientAddress();
    // A stolen session must not become an unthrottled password oracle: wrong current passwords count toward lockout.
    if (await this.failures.lockedUntil(user.username, address, this.clock.now())) {
      await this.hasher.verifyDummy(currentPassword);
      this.rejections.count({ action: 'auth.password_change', reason: 'locked', clientAddress: address, username: user.username });
      throw new DomainError(ErrorCode.Locked, 'Too many wrong passwords from this address; try again later.');
    }
    if (!(await this.gate.run(() => this.hasher.verify(currentPassword, user.passwordHash)))) {
      const locked = await this.loginFailed(user.username, address, user, 'wrong_current_password');
      if (locked) throw new DomainError(ErrorCode.Locked, 'Too many wrong passwords from this address; try again later.');
      throw DomainError.validation('The current password is incorrect.', [{ field: 'currentPassword', messages: ['currentPassword is incorrect'] }]);
    }
    const violations = this.policy.violations(newPassword, user.username);
    if (currentPassword === newPassword) violations.push('must differ from the current password');
    if (violations.length) {
      await this.audit.record({
        actor, action: 'auth.password_change', outcome: 'failed', targetType: 'User', targetId: actor.id, details: { reason: 'policy', violations },
      });
      throw DomainError.validation('The password does not meet the password policy.', [
        { field: 'newPassword', messages: violations.map((m) => `newPassword ${m}`) },
      ]);
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.users.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      await this.users.update(manager, user.id, { passwordHash, mustChangePassword: false, updatedAt: now });
      // Other sessions may belong to whoever knew the old password; only this one survives.
      const ended = await this.sessions.endAllForUser(manager, user.id, now, 'password_changed', actor.sessionId);
      await this.audit.append(manager, {
        actor, action: 'auth.password_change', outcome: 'allowed', targetType: 'User', targetId: actor.id,
        details: { wasTemporary: user.mustChangePassword, otherSessionsEnded: ended },
      });
    });
  }
}
