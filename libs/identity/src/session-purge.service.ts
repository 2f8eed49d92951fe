import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { SYSTEM_ACTOR_NAME } from './actor';
import { SessionRepository } from './session.repository';

/** Sessions that stopped working more than this long ago are deleted. */
export const SESSION_RETENTION_MS = 24 * 60 * 60 * 1000;
const BATCH = 1_000;

/**
 * Deletes dead sessions (ended, expired or idle for longer than SESSION_RETENTION_MS).
 * Only token hashes and timestamps go; who logged in when stays in the audit trail
 * (`auth.login`, `auth.logout`), so nothing an auditor needs is lost, and the table of
 * token hashes stays no bigger than the live sessions of the last day (data minimisation).
 */
@Injectable()
export class SessionPurgeService {
  private readonly logger = new Logger(SessionPurgeService.name);

  constructor(
    private readonly sessions: SessionRepository,
    private readonly audit: AuditService,
    private readonly config: KuraConfig,
    private readonly clock: Clock,
  ) {}

  async purge(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - SESSION_RETENTION_MS);
    let deleted = 0;
    for (;;) {
      const n = await this.sessions.deleteDeadBefore(cutoff, this.config.sessionIdleTimeoutSeconds, BATCH);
      deleted += n;
      if (n < BATCH) break;
    }
    if (deleted > 0) {
      await this.audit.record({
        actor: null,
        actorName: SYSTEM_ACTOR_NAME,
        action: 'session.purge',
        targetType: 'Session',
        outcome: 'allowed',
        details: { deleted, deadBefore: cutoff.toISOString() },
      });
      this.logger.log({ msg: 'dead sessions deleted', deleted, deadBefore: cutoff.toISOString() });
    }
    return deleted;
  }
}
