import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { RetentionRepository } from '../retention.repository';

export const VERSION_DIGESTER = Symbol('VERSION_DIGESTER');

/** Re-reads a stored version (decrypting it) and answers the SHA-256 of its plaintext. */
export interface VersionDigester {
  sha256(versionId: string): Promise<string>;
}

export interface FixityResult {
  checked: number;
  failed: number;
}

/** SPEC §3 fixity: re-read stored versions, compare SHA-256 with the record, audit `integrity.failed`. */
@Injectable()
export class FixityService {
  private readonly logger = new Logger(FixityService.name);

  constructor(
    private readonly retention: RetentionRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
    @Optional() @Inject(VERSION_DIGESTER) private readonly digester: VersionDigester | null,
  ) {}

  /** Checks `sampleSize` versions (0: all), least recently checked first; instances claim disjoint sets. */
  async run(sampleSize = this.config.fixitySampleSize): Promise<FixityResult> {
    if (!this.digester) {
      this.logger.warn({ msg: 'fixity skipped: no version reader is registered' });
      return { checked: 0, failed: 0 };
    }
    const digester = this.digester;
    const claimed = await this.retention.claimFixity(this.clock.now(), sampleSize === 0 ? null : sampleSize);
    let failed = 0;
    for (const v of claimed) {
      let actual: string | null = null;
      let reason: string | null = null;
      try {
        actual = await digester.sha256(v.id);
        if (actual !== v.sha256) reason = 'sha256 mismatch';
      } catch (err) {
        reason = `unreadable: ${err instanceof Error ? err.name : 'error'}`;
      }
      await this.retention.recordFixity(v.id, reason === null);
      if (reason === null) continue;
      failed++;
      this.logger.error({ msg: 'fixity check failed', documentId: v.documentId, version: v.number, reason });
      await this.audit.record({
        actor: null,
        actorName: 'system',
        action: 'integrity.failed',
        targetType: 'Document',
        targetId: v.documentId,
        outcome: 'failed',
        details: { versionId: v.id, version: v.number, reason, expectedSha256: v.sha256, actualSha256: actual },
      });
    }
    return { checked: claimed.length, failed };
  }
}
