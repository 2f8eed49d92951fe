import { Inject, Injectable } from '@nestjs/common';
import { DocumentAccess, documentSubject } from '@kura/access';
import { AuditService } from '@kura/audit';
import { classificationName, Clock, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { documentView, DocumentView, versionEtag } from './document.views';
import { DocumentsRepository } from './documents.repository';
import { unknownSeries } from './documents.errors';
import { UpdateDocumentDto } from './dto/update-document.dto';
import { assertWritable } from './lifecycle/document-lifecycle';
import { auditedChanges, METADATA_FIELDS, metadataChanges } from './metadata/metadata-changes';
import { SERIES_CHANGE_GUARD, type SeriesChangeGuard } from './series-change.guard';

/** PATCH /documents/:id: descriptive metadata and reclassification, each field under its own right, every change audited with old and new values. */
@Injectable()
export class DocumentMetadataService {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly tx: TransactionRunner,
    private readonly access: DocumentAccess,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(SERIES_CHANGE_GUARD) private readonly seriesGuard: SeriesChangeGuard,
  ) {}

  async update(actor: Actor, id: string, dto: UpdateDocumentDto): Promise<{ document: DocumentView; etag: string }> {
    const ability = this.access.ability(actor);
    const named = METADATA_FIELDS.filter((k) => dto[k] !== undefined);
    if (named.length === 0 && dto.classification === undefined) throw DomainError.validation('Nothing to change.');
    const before = await this.access.require<DocumentEntity>(actor, id, 'read', 'document.update');
    // Every named field needs its right, changed or not: a no-op PATCH is no way around a refusal.
    // The series is the records officers' field (field-level rule): it decides when a record is destroyed.
    const refused = named.filter((f) => !ability.can('update', documentSubject(before), f));
    if (refused.length) {
      await this.audit.record({ actor, action: 'document.update', targetType: 'Document', targetId: id, outcome: 'denied', details: { fields: refused } });
      throw new DomainError(ErrorCode.Forbidden, refused.includes('seriesId') ? 'Only a records officer may change the series of a document.' : 'You may not change this document.');
    }
    if (dto.classification !== undefined) {
      const after = { ...before, classification: dto.classification };
      const downgrade = after.classification < before.classification;
      // Only the owner or a records officer reclassifies; only a records officer downgrades (issue 4).
      const allowed = ability.can('reclassify', documentSubject(before)) && ability.can('reclassify', documentSubject(after)) && (!downgrade || ability.can('downgrade', documentSubject(before)));
      if (!allowed) {
        await this.audit.record({ actor, action: 'document.reclassify', targetType: 'Document', targetId: id, outcome: 'denied', details: { from: classificationName(before.classification), to: classificationName(after.classification), downgrade } });
        throw new DomainError(ErrorCode.Forbidden, downgrade ? 'Only a records officer may lower a classification.' : 'Only the owner or a records officer may reclassify this document.');
      }
    }
    return this.tx.run(async (m) => {
      const locked = await this.repo.lockById(m, id);
      if (!locked) throw DomainError.notFound('document');
      // Re-checked under the row lock: a document pending disposition or destroyed keeps its metadata.
      assertWritable(locked.status);
      if (locked.classification !== before.classification) throw new DomainError(ErrorCode.Conflict, 'The document was reclassified meanwhile; read it again.');
      const { patch, changes } = metadataChanges(locked, dto);
      const reclassify = dto.classification !== undefined && dto.classification !== locked.classification;
      if (changes.seriesId) await this.seriesGuard.assertSeriesChangeAllowed(m, id, dto.seriesId ?? null);
      const now = this.clock.now();
      const changed = Object.keys(changes).length > 0;
      if (changed || reclassify) await this.repo.updateMetadata(m, id, { ...patch, ...(reclassify && { classification: dto.classification }) }, now).catch(unknownSeries);
      // Nothing changed: nothing written, updated_at kept, and still a trace of who asked.
      if (changed || !reclassify) {
        await this.audit.append(m, { actor, action: 'document.update', targetType: 'Document', targetId: id, outcome: 'allowed', details: { changes: auditedChanges(changes, locked.personalData) } });
      }
      if (reclassify) {
        await this.audit.append(m, {
          actor,
          action: 'document.reclassify',
          targetType: 'Document',
          targetId: id,
          outcome: 'allowed',
          details: { from: classificationName(locked.classification), to: classificationName(dto.classification as number), downgrade: (dto.classification as number) < locked.classification },
        });
      }
      const updated = changed || reclassify ? ({ ...locked, ...patch, ...(reclassify && { classification: dto.classification }), updatedAt: now } as DocumentEntity) : locked;
      const current = await this.repo.findVersion(id, updated.currentVersion, m);
      return { document: documentView(updated, current as DocumentVersionEntity), etag: versionEtag(updated.currentVersion) };
    });
  }
}
