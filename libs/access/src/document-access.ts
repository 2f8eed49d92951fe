import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService, type AuditEventInput } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import type { Actor } from '@kura/identity';
import { AbilityFactory, documentSubject } from './ability.factory';
import { AppAbility, DOCUMENT_SQL_FIELDS, DocumentSubjectFields } from './access-policy';
import { abilityToSql, SqlCondition } from './casl-sql';
import type { Action } from './policy.decorator';

/** A document row as far as the access decision is concerned. */
export type DocumentAccessRow = DocumentSubjectFields & { id: string };

/** One requested id, as the rows source sees it: whether it exists and whether a condition admits it. */
export interface AdmittedId {
  id: string;
  admitted: boolean;
}

/**
 * The documents capability's reads for the access decision (it owns the table and binds
 * this token to its repository). Both run inside the caller's transaction when given one.
 */
export interface DocumentRows {
  findById(id: string, manager?: EntityManager): Promise<DocumentAccessRow | null>;
  /** For each id that exists: whether `condition` (SQL over `documents d`, placeholders from $1) admits it. */
  admitted(ids: string[], condition: SqlCondition, manager?: EntityManager): Promise<AdmittedId[]>;
}

export const DOCUMENT_ROWS = Symbol('DOCUMENT_ROWS');

/** How a set of documents splits for one reader: what they may see, and how many they may not. */
export interface Visibility {
  visible: Set<string>;
  /** Ids the reader may not see (or that no longer exist): shown as a count at most, never listed. */
  withheld: number;
}

/**
 * A refusal decided inside the caller's transaction. It is not audited there (that event
 * would roll back with the transaction, and auditing on a second connection while holding
 * row locks can starve the pool): `auditRefusal` (the transaction's `.catch`) records it once
 * the transaction is over.
 */
export class AccessRefusal extends DomainError {
  constructor(
    error: DomainError,
    readonly audit: AuditEventInput,
  ) {
    super(error.code, error.detail, error.extensions);
  }
}

/**
 * THE access decision for documents, asked by every capability (SPEC §4: one access
 * provider). It derives everything from the ability the auth guard built for the request
 * (libs/access/src/access-policy.ts): `require` for one document, `requireAll` for a set a
 * caller named, `filter` for SQL lists, `visibility` to redact views over many documents.
 *
 * "Visible" means the reader may `read` the document or take the asked action on it.
 * Not visible → 404, identical for a hidden and a missing document; visible but the action
 * is not granted → 403. Every refusal is audited (`denied`; `failed` when truly missing):
 * at once, or — when the check runs in a transaction (`manager` given) — by
 * `auditRefusal` in that transaction's `.catch`.
 */
@Injectable()
export class DocumentAccess {
  constructor(
    @Inject(DOCUMENT_ROWS) private readonly rows: DocumentRows,
    private readonly abilities: AbilityFactory,
    private readonly audit: AuditService,
  ) {}

  ability(actor: Actor): AppAbility {
    return this.abilities.forActor(actor);
  }

  can(actor: Actor, action: Action, doc: DocumentSubjectFields): boolean {
    return this.ability(actor).can(action, documentSubject(doc));
  }

  /** The CASL rules for `action` on Document as one SQL condition over `documents d` (placeholders after `paramOffset`). */
  filter(actor: Actor, action: Action = 'read', paramOffset = 0): SqlCondition {
    return abilityToSql(this.ability(actor), action, 'Document', DOCUMENT_SQL_FIELDS, paramOffset);
  }

  /** The document if the actor may take `action` on it; otherwise the uniform 404/403, audited under `auditAction`. */
  async require<T extends DocumentAccessRow = DocumentAccessRow>(actor: Actor, id: string, action: Action, auditAction: string, manager?: EntityManager): Promise<T> {
    const doc = await this.rows.findById(id, manager);
    const ability = this.ability(actor);
    const subject = doc && documentSubject(doc);
    if (!subject || !(ability.can('read', subject) || ability.can(action, subject))) {
      return this.refuse(DomainError.notFound('document'), { actor, action: auditAction, targetType: 'Document', targetId: id, outcome: doc ? 'denied' : 'failed', details: { reason: doc ? 'not-visible' : 'not-found' } }, manager);
    }
    if (!ability.can(action, subject)) {
      return this.refuse(new DomainError(ErrorCode.Forbidden, 'You may not do this to this document.'), { actor, action: auditAction, targetType: 'Document', targetId: id, outcome: 'denied', details: { reason: `may-not-${action}` } }, manager);
    }
    return doc as T;
  }

  /**
   * For a set of documents the caller named (a hold, an event, a proposal): passes only if
   * the actor may take `action` on every one. Run it after locking the rows, in the same
   * transaction (pass its manager; end the transaction with `.catch(auditRefusal)`). Ids
   * the actor may not see answer 404 exactly like missing ones (the body lists only ids
   * the caller sent); the probe is audited with the hidden ids.
   */
  async requireAll(actor: Actor, ids: string[], action: Action, auditAction: string, manager?: EntityManager): Promise<void> {
    const readable = this.split(await this.rows.admitted(ids, this.filter(actor, 'read'), manager), ids);
    const acting = this.split(await this.rows.admitted(ids, this.filter(actor, action), manager), ids);
    const hidden = ids.filter((id) => !readable.visible.has(id) && !acting.visible.has(id) && !readable.missing.includes(id));
    const missing = readable.missing;
    if (hidden.length || missing.length) {
      return this.refuse(
        new DomainError(ErrorCode.NotFound, 'Some documents do not exist.', { documentIds: [...hidden, ...missing].sort() }),
        { actor, action: auditAction, targetType: 'Document', targetId: hidden[0] ?? missing[0], outcome: hidden.length ? 'denied' : 'failed', details: { reason: hidden.length ? 'not-visible' : 'not-found', hidden, missing } },
        manager,
      );
    }
    const refused = ids.filter((id) => !acting.visible.has(id));
    if (refused.length) {
      return this.refuse(
        new DomainError(ErrorCode.Forbidden, 'You may not do this to some of these documents.', { documentIds: refused }),
        { actor, action: auditAction, targetType: 'Document', targetId: refused[0], outcome: 'denied', details: { reason: `may-not-${action}`, documentIds: refused } },
        manager,
      );
    }
  }

  /**
   * For an act over documents the caller did not name (releasing a hold, cancelling a
   * batch): passes only if the actor may take `action` on every one; otherwise 403 that
   * says how many, never which, audited with the ids.
   */
  async requireCovered(actor: Actor, ids: string[], action: Action, auditAction: string, target: { type: string; id: string }, manager?: EntityManager): Promise<void> {
    const { visible } = this.split(await this.rows.admitted(ids, this.filter(actor, action), manager), ids);
    const refused = ids.filter((id) => !visible.has(id));
    if (!refused.length) return;
    return this.refuse(
      new DomainError(ErrorCode.Forbidden, `You may not do this: it covers ${refused.length} document(s) you are not allowed to act on.`, { withheldDocuments: refused.length }),
      { actor, action: auditAction, targetType: target.type, targetId: target.id, outcome: 'denied', details: { reason: `may-not-${action}-every-document`, documentIds: refused } },
      manager,
    );
  }

  /**
   * `.catch` of a transaction whose access checks were given its manager: audits their
   * refusal once the transaction has rolled back, then rethrows whatever failed.
   */
  async auditRefusal(err: unknown): Promise<never> {
    if (err instanceof AccessRefusal) await this.audit.record(err.audit);
    throw err;
  }

  /** Which of these documents the actor may `read` (one SQL query); the rest only as a count. */
  async visibility(actor: Actor, ids: string[], manager?: EntityManager): Promise<Visibility> {
    if (!ids.length) return { visible: new Set(), withheld: 0 };
    const { visible } = this.split(await this.rows.admitted(ids, this.filter(actor, 'read'), manager), ids);
    return { visible, withheld: new Set(ids).size - visible.size };
  }

  private async refuse(error: DomainError, audit: AuditEventInput, manager: EntityManager | undefined): Promise<never> {
    if (manager) throw new AccessRefusal(error, audit);
    await this.audit.record(audit);
    throw error;
  }

  private split(rows: AdmittedId[], ids: string[]): { visible: Set<string>; missing: string[] } {
    const found = new Set(rows.map((r) => r.id));
    return { visible: new Set(rows.filter((r) => r.admitted).map((r) => r.id)), missing: ids.filter((id) => !found.has(id)) };
  }
}
