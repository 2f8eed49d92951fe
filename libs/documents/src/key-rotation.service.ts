import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { ContentCrypto, KeyRing } from '@kura/crypto';
import { TransactionRunner } from '@kura/database';
import { DocumentsRepository } from './documents.repository';

export interface RotationResult {
  kekId: string;
  rewrapped: number;
  failed: number;
  /** Live data keys per KEK after the run: retire a KEK only when it has none. */
  remaining: Record<string, number>;
}

/** Called after each committed batch (the CLI shows it as a progress bar or JSON lines). */
export type RotationProgress = (progress: { rewrapped: number; failed: number }) => void;

/**
 * KEK rotation (SPEC §3): a new active KEK, then every data key re-wrapped under it in
 * batches, each batch its own transaction. Content objects are never read or rewritten.
 */
@Injectable()
export class KeyRotationService {
  private readonly logger = new Logger(KeyRotationService.name);

  constructor(
    private readonly ring: KeyRing,
    private readonly crypto: ContentCrypto,
    private readonly repo: DocumentsRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  async rotate(operator: string, batchSize = 500, onProgress?: RotationProgress): Promise<RotationResult> {
    const previous = this.ring.activeKekId();
    const kekId = this.ring.rotate();
    await this.audit.record({ actor: null, actorName: operator, action: 'key.rotate', targetType: 'Key', targetId: kekId, outcome: 'allowed', details: { previous } });
    return this.rewrapAll(operator, batchSize, onProgress);
  }

  /** Re-wraps every data key not yet under the active KEK (also resumes an interrupted rotation). */
  async rewrapAll(operator: string, batchSize = 500, onProgress?: RotationProgress): Promise<RotationResult> {
    const kekId = this.ring.activeKekId();
    let rewrapped = 0;
    let failed = 0;
    let after: string | undefined;
    for (;;) {
      const batch = await this.tx.run(async (m) => {
        const rows = await this.repo.lockVersionsNotWrappedUnder(m, kekId, batchSize, after);
        for (const row of rows) {
          try {
            const next = this.crypto.rewrap(row.id, { kekId: row.kekId, wrapped: row.wrappedKey });
            await this.repo.rewrapKey(m, row.id, next.kekId, next.wrapped);
            rewrapped++;
          } catch (err) {
            failed++;
            this.logger.error({ msg: 'data key could not be re-wrapped', versionId: row.id, kekId: row.kekId, errorName: err instanceof Error ? err.name : typeof err });
          }
        }
        return rows;
      });
      if (batch.length === 0) break;
      after = batch[batch.length - 1].id;
      onProgress?.({ rewrapped, failed });
    }
    const remaining = await this.repo.countByKek();
    await this.audit.record({ actor: null, actorName: operator, action: 'key.rewrap', targetType: 'Key', targetId: kekId, outcome: failed ? 'failed' : 'allowed', details: { rewrapped, failed, remaining } });
    return { kekId, rewrapped, failed, remaining };
  }

  /** Removes a KEK file once no live data key is wrapped under it. */
  async retire(operator: string, kekId: string): Promise<void> {
    const remaining = (await this.repo.countByKek())[kekId] ?? 0;
    if (remaining > 0 || kekId === this.ring.activeKekId()) {
      await this.audit.record({ actor: null, actorName: operator, action: 'key.retire', targetType: 'Key', targetId: kekId, outcome: 'denied', details: { remaining } });
      throw new DomainError(ErrorCode.Conflict, remaining > 0 ? `${remaining} data keys are still wrapped under ${kekId}; rotate first.` : 'The active KEK cannot be retired.');
    }
    this.ring.retire(kekId);
    await this.audit.record({ actor: null, actorName: operator, action: 'key.retire', targetType: 'Key', targetId: kekId, outcome: 'allowed' });
  }
}
