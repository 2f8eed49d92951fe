import { Injectable } from '@nestjs/common';
import type { Action, AppAbility } from '@kura/access';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import type { Actor } from '@kura/identity';
import type { DocumentEntity } from '../document.entity';
import { DocumentsRepository } from '../documents.repository';
import { documentSubject } from './document-subject';

/** The single-document access decision the documents services share (one place, one answer). */
@Injectable()
export class DocumentAuthorizer {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * The one access decision for a single document. Not visible (missing, or the policy
   * hides it — e.g. `specific` for non-handlers) → the same 404 either way; visible but the
   * action is not allowed → 403. Every refusal is audited.
   */
  async authorize(actor: Actor, ability: AppAbility, id: string, action: Action, auditAction: string): Promise<DocumentEntity> {
    const doc = await this.repo.findById(id);
    if (!doc || !ability.can('read', documentSubject(doc))) {
      await this.audit.record({ actor, action: auditAction, targetType: 'Document', targetId: id, outcome: doc ? 'denied' : 'failed', details: { reason: doc ? 'not-visible' : 'not-found' } });
      throw DomainError.notFound('document');
    }
    if (action !== 'read' && !ability.can(action, documentSubject(doc))) {
      await this.audit.record({ actor, action: auditAction, targetType: 'Document', targetId: id, outcome: 'denied', details: { reason: `may-not-${action}` } });
      throw new DomainError(ErrorCode.Forbidden, 'You may not do this to this document.');
    }
    return doc;
  }
}
