import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { KuraConfig } from '@kura/config';

const MAX_GROUPS = 200;

interface Group {
  action: string;
  reason: string;
  clientAddress: string;
  username?: string;
  route?: string;
  count: number;
}

/**
 * Rejections anyone can cause at will (bogus tokens, logins from a locked-out address,
 * throttled requests) are counted here and appended to the audit chain as one summary per
 * interval, so a flood costs no chain append per request yet nothing goes unrecorded.
 */
@Injectable()
export class AuthRejectionTally implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthRejectionTally.name);
  private groups = new Map<string, Group>();
  private overflow = 0;
  private since = new Date();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditService,
    private readonly config: KuraConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.authRejectionAuditSeconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  count(entry: Omit<Group, 'count'>): void {
    const key = JSON.stringify([entry.action, entry.reason, entry.clientAddress, entry.username ?? null, entry.route ?? null]);
    const group = this.groups.get(key);
    if (group) group.count++;
    else if (this.groups.size < MAX_GROUPS) this.groups.set(key, { ...entry, count: 1 });
    else this.overflow++;
  }

  /** Appends one `auth.rejected` summary of what was counted since the last flush (nothing when nothing was). */
  async flush(): Promise<void> {
    if (this.groups.size === 0 && this.overflow === 0) return;
    const groups = [...this.groups.values()].sort((a, b) => b.count - a.count);
    const overflow = this.overflow;
    const since = this.since;
    this.groups = new Map();
    this.overflow = 0;
    this.since = new Date();
    const total = groups.reduce((n, g) => n + g.count, overflow);
    await this.audit
      .record({ actor: null, actorName: 'system', action: 'auth.rejected', outcome: 'denied', details: { since: since.toISOString(), until: this.since.toISOString(), total, groups, ungrouped: overflow } })
      .catch((err: unknown) => this.logger.error({ msg: 'could not audit the rejection summary', total, error: err instanceof Error ? err.message : String(err) }));
  }
}
