import { Injectable } from '@nestjs/common';
import { type Actor, DomainError, ErrorCode } from '@kura/common';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { AuditCheckpointService } from './audit-checkpoint.service';
import type { AuditEventView, Page, Paging } from './audit-query.types';
import { AuditSequencer } from './audit-sequencer';
import { AuditVerifier, VerifyResult } from './audit-verifier';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { auditEventFilter } from './dto/audit-events.filter';
import type { AuditEventsQuery, PagingQuery } from './dto/audit-events.query';

export interface CheckpointView {
  seq: number;
  hash: string;
  createdAt: string;
  keyId: string;
  algorithm: 'Ed25519';
  signature: string;
}

const toCheckpointView = (c: AuditCheckpointEntity): CheckpointView => ({
  seq: Number(c.seq),
  hash: c.hash,
  createdAt: c.createdAt.toISOString(),
  keyId: c.keyId,
  algorithm: 'Ed25519',
  signature: c.signature,
});

const paging = (q: PagingQuery): Paging => ({ page: q.page ?? 1, pageSize: q.pageSize ?? 50 });

/**
 * What auditors do with the trail: search it, verify it, checkpoint it. Every one of
 * these reads is itself audited before the data is returned (A.8.15: the watchers are watched).
 */
@Injectable()
export class AuditTrailService {
  constructor(
    private readonly events: AuditRepository,
    private readonly audit: AuditService,
    private readonly verifier: AuditVerifier,
    private readonly checkpoints: AuditCheckpointService,
    private readonly sequencer: AuditSequencer,
  ) {}

  async search(actor: Actor, q: AuditEventsQuery): Promise<Page<AuditEventView>> {
    const result = await this.events.search(auditEventFilter(q), paging(q));
    await this.audit.record({
      actor,
      action: 'audit.events.read',
      targetType: 'AuditEvent',
      outcome: 'allowed',
      details: { filter: { ...q, page: undefined, pageSize: undefined }, page: result.page, returned: result.items.length, total: result.total },
    });
    return result;
  }

  async verify(actor: Actor): Promise<VerifyResult> {
    // Chain what is pending first: only events the sequencer could not chain count as stale.
    await this.sequencer.flush();
    const result = await this.verifier.verify();
    await this.audit.record({
      actor,
      action: 'audit.verify',
      targetType: 'AuditEvent',
      outcome: 'allowed',
      details: { valid: result.valid, checked: result.checked, firstInvalidSeq: result.firstInvalidSeq },
    });
    return result;
  }

  async listCheckpoints(actor: Actor, q: PagingQuery): Promise<Page<CheckpointView>> {
    const p = paging(q);
    const { items, total } = await this.checkpoints.list(p.page, p.pageSize);
    await this.audit.record({ actor, action: 'audit.checkpoints.read', targetType: 'AuditCheckpoint', outcome: 'allowed', details: { returned: items.length } });
    return { items: items.map(toCheckpointView), page: p.page, pageSize: p.pageSize, total };
  }

  /**
   * For capabilities that build reports from the chain (the My Number handling ledger): signs
   * a checkpoint of the current head (after verifying the chain since the previous one) and
   * answers it, so a report can be drawn against exactly that signed state. Not audited here:
   * the report audits its own read. Null for an empty trail.
   */
  async signedHead(): Promise<CheckpointView | null> {
    const checkpoint = await this.checkpoints.create();
    return checkpoint && toCheckpointView(checkpoint);
  }

  /** Events about these targets and actions up to `upToSeq`, in chain order, by keyset batches (not audited: see signedHead). */
  async *eventsAbout(q: { targetIds: string[]; actions: string[]; from?: Date; to?: Date }, upToSeq: number, batchSize = 1_000): AsyncGenerator<AuditEventView[]> {
    let after = '0';
    for (;;) {
      const batch = await this.events.batchForTargets(q, after, String(upToSeq), batchSize);
      if (batch.length) yield batch;
      if (batch.length < batchSize) return;
      after = String(batch[batch.length - 1].seq);
    }
  }

  /** On demand; the answer is the new (or already existing) checkpoint of the current head. */
  async createCheckpoint(actor: Actor): Promise<CheckpointView> {
    try {
      const checkpoint = await this.checkpoints.create();
      if (!checkpoint) throw new DomainError(ErrorCode.Conflict, 'The audit trail is empty: there is nothing to checkpoint yet.');
      await this.audit.record({
        actor,
        action: 'audit.checkpoint.create',
        targetType: 'AuditCheckpoint',
        targetId: checkpoint.seq,
        outcome: 'allowed',
      });
      return toCheckpointView(checkpoint);
    } catch (err) {
      await this.audit.record({ actor, action: 'audit.checkpoint.create', targetType: 'AuditCheckpoint', outcome: 'failed' });
      throw err;
    }
  }
}
