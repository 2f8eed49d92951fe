import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { metrics, requestContext } from '@kura/common';
import { AuditEventEntity } from './audit-event.entity';
import { AuditRepository } from './audit.repository';
import type { AuditEventInput } from './audit.types';

@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /**
   * Appends in the caller's transaction: if the append fails, the change it records
   * rolls back with it (fail closed).
   */
  append(manager: EntityManager, input: AuditEventInput): Promise<AuditEventEntity> {
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
    })
      .then((event) => {
        metrics.auditHeadSeq.set(Number(event.seq));
        return event;
      })
      .finally(() => timer());
  }

  /** Appends in a transaction of its own: denials, failures, reads before data is returned. */
  record(input: AuditEventInput): Promise<AuditEventEntity> {
    return this.repo.dataSource.transaction((manager) => this.append(manager, input));
  }
}
