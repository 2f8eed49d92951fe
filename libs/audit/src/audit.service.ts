import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { metrics, requestContext } from '@kura/common';
import { AuditEventEntity } from './audit-event.entity';
import { AuditSequencer } from './audit-sequencer';
import { AuditRepository, PendingAuditEvent } from './audit.repository';
import type { AuditEventInput } from './audit.types';

@Injectable()
export class AuditService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly sequencer: AuditSequencer,
  ) {}

  /**
   * Records in the caller's transaction: if the append fails, the change it records rolls
   * back with it (fail closed), and the event exists only if the change commits. It is
   * chained right after that commit, before the caller's transaction call returns.
   */
  append(manager: EntityManager, input: AuditEventInput): Promise<PendingAuditEvent> {
    const ctx = requestContext.current();
    const timer = metrics.auditAppend.startTimer();
    return this.repo.append(manager, {
      actorId: input.actor?.id ?? null,
      actorName: input.actor?.username ?? input.actorName ?? 'anonymous',
      action: input.action,
      targetType: input.targetType ?? null,
      targetId: input.targetId ?? null,
      outcome: input.outcome,
      clientAddress: ctx?.clientAddress ?? null,
      userAgent: ctx?.userAgent ?? null,
      requestId: ctx?.requestId ?? null,
      details: input.details ?? {},
    }).finally(() => timer());
  }

  /**
   * Appends in a transaction of its own and returns the chained event: denials, failures,
   * reads before data is returned. Fails closed: if the event is not chained (the sequencer
   * is blocked, or the row was altered or deleted before chaining) the caller gets an error.
   */
  async record(input: AuditEventInput): Promise<AuditEventEntity> {
    let pending: PendingAuditEvent | undefined;
    await this.repo.dataSource.transaction(async (manager) => {
      pending = await this.append(manager, input);
    });
    const outcome = await this.sequencer.outcomeOf(pending!);
    if (!outcome.chained) throw new Error(`audit event not chained: ${outcome.reason}`);
    return outcome.event;
  }
}
