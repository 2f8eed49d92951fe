import { Injectable } from '@nestjs/common';
import { DocumentAccess, RETENTION_DOCUMENT_ACTION } from '@kura/access';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { RetentionRepository } from '../retention.repository';
import { isShortening, parseTrigger } from '../retention-period';
import { RecordEventsDto } from './record-events.dto';

export interface RecordedEvent {
  documentId: string;
  event: string;
  occurredAt: string;
  /** The recomputed disposition date, or null when the document's series does not wait for this event. */
  dispositionDate: string | null;
}

@Injectable()
export class RetentionEventsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly retention: RetentionRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly access: DocumentAccess,
  ) {}

  async record(actor: Actor, dto: RecordEventsDto): Promise<{ items: RecordedEvent[] }> {
    const occurredAt = new Date(dto.occurredAt);
    if (Number.isNaN(occurredAt.getTime())) throw DomainError.validation('occurredAt is not a valid date.');
    // An event that has not happened yet cannot start retention.
    if (occurredAt.getTime() > this.clock.now().getTime()) {
      throw DomainError.validation('occurredAt must not be in the future.', [{ field: 'occurredAt', messages: ['occurredAt must not be in the future'] }]);
    }
    return this.tx.run(async (m) => {
      const facts = await this.retention.facts(m, dto.documentIds, true);
      // Documents the officer may not see answer like missing ones, and the probe is audited (SPEC §4).
      await this.access.requireAll(actor, dto.documentIds, RETENTION_DOCUMENT_ACTION, 'retention.event.record', m);
      const destroyed = facts.filter((f) => f.status === 'destroyed').map((f) => f.id);
      if (destroyed.length) throw new DomainError(ErrorCode.Conflict, 'Some documents have been destroyed.', { documentIds: destroyed });

      const previous = await this.retention.eventDates(m, dto.documentIds, dto.event);
      // A correction to an earlier date would shorten retention: refused while the record is held.
      const refused = facts
        .filter((f) => f.activeHolds > 0 && previous.has(f.id) && isShortening(previous.get(f.id)!, occurredAt))
        .map((f) => f.id);
      if (refused.length) {
        await this.audit.record({ actor, action: 'retention.event.record', targetType: 'Document', targetId: refused[0], outcome: 'denied', details: { event: dto.event, reason: 'held', documentIds: refused } });
        throw new DomainError(ErrorCode.Conflict, 'Retention of a document under legal hold cannot be shortened.', { documentIds: refused });
      }

      const now = this.clock.now();
      for (const f of facts) {
        await this.retention.upsertEvent(m, f.id, dto.event, occurredAt, actor.id, now);
        const before = previous.get(f.id);
        await this.audit.append(m, {
          actor,
          action: 'retention.event.record',
          targetType: 'Document',
          targetId: f.id,
          outcome: 'allowed',
          details: { event: dto.event, occurredAt: occurredAt.toISOString(), ...(before ? { previousOccurredAt: before.toISOString() } : {}) },
        });
      }
      const after = await this.retention.facts(m, dto.documentIds);
      return {
        items: after.map((f) => {
          const trigger = f.trigger ? parseTrigger(f.trigger) : undefined;
          const waits = trigger?.kind === 'event' && trigger.event === dto.event;
          return { documentId: f.id, event: dto.event, occurredAt: occurredAt.toISOString(), dispositionDate: waits && f.dispositionAt ? f.dispositionAt.toISOString() : null };
        }),
      };
    }).catch((err: unknown) => this.access.auditRefusal(err));
  }
}
