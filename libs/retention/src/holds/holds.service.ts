import { Injectable } from '@nestjs/common';
import { DocumentAccess, RETENTION_DOCUMENT_ACTION } from '@kura/access';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import { DocumentLifecycle } from '@kura/documents';
import type { Actor } from '@kura/identity';
import { RetentionRepository } from '../retention.repository';
import { AmendHoldDto } from './amend-hold.dto';
import { CreateHoldDto } from './create-hold.dto';
import { HoldRow, HoldsRepository } from './holds.repository';

export interface HoldView {
  id: string;
  name: string;
  reason: string;
  active: boolean;
  /** Only the documents the reader may see (SPEC §4); the others only as `withheldDocuments`. */
  documentIds: string[];
  withheldDocuments: number;
  /** The hold's register: documents removed from it while active, when and by whom; redacted like `documentIds`. */
  releasedDocuments: Array<{ documentId: string; releasedAt: string; releasedBy: string }>;
  withheldReleasedDocuments: number;
  createdAt: string;
  createdBy: string;
  releasedAt: string | null;
  releasedBy: string | null;
}

function holdView(h: HoldRow, visible: ReadonlySet<string>): HoldView {
  const documentIds = h.documentIds.filter((d) => visible.has(d));
  const releasedDocuments = h.releasedDocuments
    .filter((r) => visible.has(r.documentId))
    .map((r) => ({ documentId: r.documentId, releasedAt: new Date(r.releasedAt).toISOString(), releasedBy: r.releasedBy }));
  return {
    id: h.id,
    name: h.name,
    reason: h.reason,
    active: h.releasedAt === null,
    documentIds,
    withheldDocuments: h.documentIds.length - documentIds.length,
    releasedDocuments,
    withheldReleasedDocuments: h.releasedDocuments.length - releasedDocuments.length,
    createdAt: h.createdAt.toISOString(),
    createdBy: h.createdByName,
    releasedAt: h.releasedAt?.toISOString() ?? null,
    releasedBy: h.releasedByName,
  };
}

/** Every document a hold names, now or in its register. */
function named(h: HoldRow): string[] {
  return [...h.documentIds, ...h.releasedDocuments.map((r) => r.documentId)];
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
    private readonly access: DocumentAccess,
  ) {}

  async create(actor: Actor, dto: CreateHoldDto): Promise<HoldView> {
    const hold = await this.tx.run(async (m) => {
      // Row locks serialise a new hold with a disposition executing on the same documents.
      const facts = await this.retention.facts(m, dto.documentIds, true);
      // Documents the officer may not see answer like missing ones, and the probe is audited (SPEC §4).
      await this.access.requireAll(actor, dto.documentIds, RETENTION_DOCUMENT_ACTION, 'hold.create', m);
      const gone = facts.filter((f) => f.status === 'destroyed' || f.status === 'pending_disposition').map((f) => f.id);
      if (gone.length) throw new DomainError(ErrorCode.Conflict, 'Some documents are already being or have been destroyed.', { documentIds: gone });
      const id = await this.holds.insert(m, { name: dto.name, reason: dto.reason, by: actor, at: this.clock.now(), documentIds: dto.documentIds });
      await this.lifecycle.placeHold(m, dto.documentIds);
      await this.audit.append(m, { actor, action: 'hold.create', targetType: 'Hold', targetId: id, outcome: 'allowed', details: { name: dto.name, documentIds: dto.documentIds } });
      for (const documentId of dto.documentIds) {
        await this.audit.append(m, { actor, action: 'document.hold', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id } });
      }
      return (await this.holds.find(m, id))!;
    }).catch((err: unknown) => this.access.auditRefusal(err));
    return holdView(hold, new Set(hold.documentIds));
  }

  /** Every hold, audited; each shows only the documents the reader may see, the rest as a count. */
  async list(actor: Actor): Promise<{ items: HoldView[] }> {
    const rows = await this.holds.list();
    const { visible } = await this.access.visibility(actor, [...new Set(rows.flatMap(named))]);
    const items = rows.map((h) => holdView(h, visible));
    await this.audit.record({ actor, action: 'hold.list', targetType: 'Hold', outcome: 'allowed', details: { returned: items.length, withheldDocuments: items.reduce((n, h) => n + h.withheldDocuments + h.withheldReleasedDocuments, 0) } });
    return { items };
  }

  /**
   * Renames an active hold, places more documents under it (checked exactly like placing a
   * hold) and releases others from it (each back to `active` only if no other hold holds it).
   * All or nothing; audited with the old and new name and reason and the documents changed.
   */
  async amend(actor: Actor, id: string, dto: AmendHoldDto): Promise<HoldView> {
    const add = dto.addDocumentIds ?? [];
    const remove = dto.removeDocumentIds ?? [];
    if (dto.name === undefined && dto.reason === undefined && !add.length && !remove.length) {
      throw DomainError.validation('Nothing to amend.', [{ field: 'name', messages: ['give at least one of name, reason, addDocumentIds, removeDocumentIds'] }]);
    }
    const both = add.filter((d) => remove.includes(d));
    if (both.length) throw DomainError.validation('A document cannot be added and removed at once.', [{ field: 'removeDocumentIds', messages: ['removeDocumentIds must not repeat addDocumentIds'] }]);
    const hold = await this.tx.run(async (m) => {
      const current = await this.holds.find(m, id, true);
      if (!current) throw DomainError.notFound('hold');
      if (current.releasedAt) throw new DomainError(ErrorCode.Conflict, 'The hold has been released; it can no longer be amended.');
      const changed = [...add, ...remove];
      const facts = await this.retention.facts(m, changed, true);
      // Named documents the officer may not see answer like missing ones, audited (SPEC §4).
      if (changed.length) await this.access.requireAll(actor, changed, RETENTION_DOCUMENT_ACTION, 'hold.amend', m);
      const on = new Set(current.documentIds);
      const already = add.filter((d) => on.has(d));
      if (already.length) throw new DomainError(ErrorCode.Conflict, 'Some documents are already on this hold.', { documentIds: already });
      const notOn = remove.filter((d) => !on.has(d));
      if (notOn.length) throw new DomainError(ErrorCode.Conflict, 'Some documents are not on this hold.', { documentIds: notOn });
      if (on.size - remove.length + add.length === 0) throw new DomainError(ErrorCode.Conflict, 'A hold keeps at least one document; release the hold instead.');
      const gone = facts.filter((f) => add.includes(f.id) && (f.status === 'destroyed' || f.status === 'pending_disposition')).map((f) => f.id);
      if (gone.length) throw new DomainError(ErrorCode.Conflict, 'Some documents are already being or have been destroyed.', { documentIds: gone });

      const after = { name: dto.name ?? current.name, reason: dto.reason ?? current.reason };
      if (after.name !== current.name || after.reason !== current.reason) await this.holds.rename(m, id, after.name, after.reason);
      if (add.length) {
        await this.holds.addDocuments(m, id, add);
        await this.lifecycle.placeHold(m, add);
      }
      let stillHeld = new Set<string>();
      if (remove.length) {
        await this.holds.removeDocuments(m, id, remove, actor, this.clock.now());
        stillHeld = await this.holds.stillHeld(m, remove);
        await this.lifecycle.releaseHold(m, remove.filter((d) => !stillHeld.has(d)));
      }
      await this.audit.append(m, {
        actor,
        action: 'hold.amend',
        targetType: 'Hold',
        targetId: id,
        outcome: 'allowed',
        details: { before: { name: current.name, reason: current.reason }, after, added: [...add].sort(), removed: [...remove].sort() },
      });
      for (const documentId of add) {
        await this.audit.append(m, { actor, action: 'document.hold', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id } });
      }
      for (const documentId of remove) {
        await this.audit.append(m, { actor, action: 'document.hold.release', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id, stillHeld: stillHeld.has(documentId) } });
      }
      return (await this.holds.find(m, id))!;
    }).catch((err: unknown) => this.access.auditRefusal(err));
    // The hold may also cover documents this officer may not see: those only as a count.
    const { visible } = await this.access.visibility(actor, named(hold));
    return holdView(hold, visible);
  }

  async release(actor: Actor, id: string): Promise<HoldView> {
    const hold = await this.tx.run(async (m) => {
      const current = await this.holds.find(m, id, true);
      if (!current) throw DomainError.notFound('hold');
      if (current.releasedAt) throw new DomainError(ErrorCode.Conflict, 'The hold has already been released.');
      await this.retention.facts(m, current.documentIds, true);
      // Releasing lets records go: only an officer with the right on every one of them may.
      await this.access.requireCovered(actor, current.documentIds, RETENTION_DOCUMENT_ACTION, 'hold.release', { type: 'Hold', id }, m);
      await this.holds.release(m, id, actor, this.clock.now());
      const stillHeld = await this.holds.stillHeld(m, current.documentIds);
      // Releasing the last hold makes a record eligible for disposition again.
      await this.lifecycle.releaseHold(m, current.documentIds.filter((d) => !stillHeld.has(d)));
      await this.audit.append(m, { actor, action: 'hold.release', targetType: 'Hold', targetId: id, outcome: 'allowed', details: { name: current.name, documentIds: current.documentIds } });
      for (const documentId of current.documentIds) {
        await this.audit.append(m, { actor, action: 'document.hold.release', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { holdId: id, stillHeld: stillHeld.has(documentId) } });
      }
      return (await this.holds.find(m, id))!;
    }).catch((err: unknown) => this.access.auditRefusal(err));
    // Its register may name documents this officer may not see: those only as a count.
    const { visible } = await this.access.visibility(actor, named(hold));
    return holdView(hold, visible);
  }
}
