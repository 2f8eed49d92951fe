import { Injectable } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import { DocumentLifecycle } from '@kura/documents';
import type { Actor } from '@kura/identity';
import { mayRead } from '../disposition/disposition-views';
import { RetentionRepository } from '../retention.repository';
import { CreateHoldDto } from './create-hold.dto';
import { HoldRow, HoldsRepository } from './holds.repository';

export interface HoldView {
  id: string;
  name: string;
  reason: string;
  active: boolean;
  documentIds: string[];
  createdAt: string;
  createdBy: string;
  releasedAt: string | null;
  releasedBy: string | null;
}

function holdView(h: HoldRow): HoldView {
  return {
    id: h.id,
    name: h.name,
    reason: h.reason,
    active: h.releasedAt === null,
    documentIds: h.documentIds,
    createdAt: h.createdAt.toISOString(),
    createdBy: h.createdByName,
    releasedAt: h.releasedAt?.toISOString() ?? null,
    releasedBy: h.releasedByName,
  };
}

/** Legal holds (ISO 27001 A.5.33): a held record is neither destroyed nor has its retention shortened. */
@Injectable()
export class HoldsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly holds: HoldsRepository,
    private readonly retention: RetentionRepository,
    private readonly lifecycle: DocumentLifecycle,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateHoldDto): Promise<HoldView> {
    const hold = await this.tx.run(async (m) => {
      // Row locks serialise a new hold with a disposition executing on the same documents.
      // Documents the officer may not read answer like missing ones (SPEC §4).
      const facts = (await this.retention.facts(m, dto.documentIds, true)).filter((f) => mayRead(actor, f));
      const found = new Set(facts.map((f) => f.id));
      const missing = dto.documentIds.filter((id) => !found.has(id));
      if (missing.length) throw new DomainError(ErrorCode.NotFound, 'Some documents do not exist.', { documentIds: missing });
      const gone = facts.filter((f) => f.status === 'destroyed' || f.status === 'pending_disposition').map((f) => f.id);
      if (gone.length) throw new DomainError(ErrorCode.Conflict, 'Some documents are already being or have been destroyed.', { documentIds: gone });
      const id = await this.holds.insert(m, { name: dto.name, reason: dto.reason, by: actor, at: this.clock.now(), documentIds: dto.documentIds });
      await this.lifecycle.placeHold(m, dto.documentIds);
      await this.audit.append(m, { actor, action: 'hold.create', targetType: 'Hold', targetId: id, outcome: 'allowed', details: { name: dto.name, documentIds: dto.documentIds } });
      for (const documentId of dto.documentIds) {
        await this.audit.append(m, { actor, action: 'document.hold', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id } });
      }
      return (await this.holds.find(m, id))!;
    });
    return holdView(hold);
  }

  async list(): Promise<{ items: HoldView[] }> {
    return { items: (await this.holds.list()).map(holdView) };
  }

  async release(actor: Actor, id: string): Promise<HoldView> {
    const hold = await this.tx.run(async (m) => {
      const current = await this.holds.find(m, id, true);
      if (!current) throw DomainError.notFound('hold');
      if (current.releasedAt) throw new DomainError(ErrorCode.Conflict, 'The hold has already been released.');
      await this.retention.facts(m, current.documentIds, true);
      await this.holds.release(m, id, actor, this.clock.now());
      const stillHeld = await this.holds.stillHeld(m, current.documentIds);
      // Releasing the last hold makes a record eligible for disposition again.
      await this.lifecycle.releaseHold(m, current.documentIds.filter((d) => !stillHeld.has(d)));
      await this.audit.append(m, { actor, action: 'hold.release', targetType: 'Hold', targetId: id, outcome: 'allowed', details: { name: current.name, documentIds: current.documentIds } });
      for (const documentId of current.documentIds) {
        await this.audit.append(m, { actor, action: 'document.hold.release', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id, stillHeld: stillHeld.has(documentId) } });
      }
      return (await this.holds.find(m, id))!;
    });
    return holdView(hold);
  }
}
