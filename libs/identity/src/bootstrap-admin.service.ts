import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuditService } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigError, KuraConfig } from '@kura/config';
import { Role, SYSTEM_ACTOR_NAME } from './actor';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { UserRepository } from './user.repository';

// Any constant serves: it only serialises bootstraps of several api instances on one database.
const BOOTSTRAP_LOCK_KEY = 0x6b757261;

/**
 * Creates the first administrator when no user exists. With BOOTSTRAP_ADMIN_PASSWORD the
 * operator chose the password; without it one is generated, printed once to stderr, and
 * must be changed at first login.
 */
@Injectable()
export class BootstrapAdminService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Identity');

  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly config: KuraConfig,
    private readonly clock: Clock,
  ) {}

  /** Where the one-time banner goes; stderr keeps it out of the JSON log stream on stdout. */
  protected print(text: string): void {
    process.stderr.write(text);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAdmin();
  }

  async ensureAdmin(): Promise<'created' | 'exists'> {
    const username = this.config.bootstrapAdminUsername;
    const configured = this.config.bootstrapAdminPassword;
    if (configured) {
      const violations = this.policy.violations(configured, username);
      if (violations.length) throw new ConfigError('BOOTSTRAP_ADMIN_PASSWORD', `is refused by the password policy: it ${violations.join('; ')}`);
    }
    const password = configured ?? randomBytes(18).toString('base64url');
    const passwordHash = await this.hasher.hash(password);
    const created = await this.users.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
      const [{ count }] = (await manager.query('SELECT count(*)::int AS count FROM users')) as Array<{ count: number }>;
      if (count > 0) return false;
      const now = this.clock.now();
      const user = await this.users.insert(manager, {
        username,
        displayName: 'Administrator',
        passwordHash,
        roles: [Role.Admin],
        clearance: 0,
        departments: [],
        designations: [],
        active: true,
        mustChangePassword: !configured,
        privilegesChangedAt: now,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.append(manager, {
        actor: null, actorName: SYSTEM_ACTOR_NAME, action: 'user.create', outcome: 'allowed', targetType: 'User', targetId: user.id,
        details: { username, roles: [Role.Admin], clearance: 'PUBLIC', departments: [], designations: [], bootstrap: true, passwordGenerated: !configured },
      });
      return true;
    });
    if (!created) return 'exists';
    this.logger.log({ msg: 'bootstrap administrator created', username, passwordGenerated: !configured });
    if (!configured) {
      // The only place a secret is ever printed: once, at first start, for the operator at the console.
      this.print(
        [
          '',
          '================================================================',
          ' Kura: first administrator created',
          `   username: ${username}`,
          `   password: ${password}`,
          ' This password is shown only this once and must be changed at',
          ' first login (POST /api/v1/auth/password).',
          '================================================================',
          '',
        ].join('\n') + '\n',
      );
    }
    return 'created';
  }
}
