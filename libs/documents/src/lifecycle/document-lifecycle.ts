import { DomainError, ErrorCode } from '@kura/common';

/**
 * A document's life (SPEC §2), the one state machine. PostgreSQL enforces the same table
 * (migration 1764000450000-documents-lifecycle); document-lifecycle.e2e-spec holds the two equal.
 *
 *   active ⇄ on_hold            a legal hold placed / its last hold released
 *   active → pending_disposition a disposition erased its data keys (A.8.10)
 *   pending_disposition → destroyed every object deleted and verified gone
 */
export const DOCUMENT_STATUSES = ['active', 'on_hold', 'pending_disposition', 'destroyed'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

export const DOCUMENT_TRANSITIONS: Readonly<Record<DocumentStatus, readonly DocumentStatus[]>> = {
  active: ['on_hold', 'pending_disposition'],
  on_hold: ['active'],
  pending_disposition: ['destroyed'],
  destroyed: [],
};

export function mayTransition(from: DocumentStatus, to: DocumentStatus): boolean {
  return DOCUMENT_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: DocumentStatus, to: DocumentStatus): void {
  if (!mayTransition(from, to)) throw new DomainError(ErrorCode.Conflict, `A document cannot go from ${from} to ${to}.`, { status: from });
}

/** Content and metadata change only while the document is active or held (a hold preserves, it does not freeze editing). */
export function isWritable(status: DocumentStatus): boolean {
  return status === 'active' || status === 'on_hold';
}

/** 410 for a destroyed document, 409 while its disposition runs. */
export function assertWritable(status: DocumentStatus): void {
  if (status === 'destroyed') throw new DomainError(ErrorCode.Gone, 'This document has been destroyed.');
  if (status === 'pending_disposition') throw new DomainError(ErrorCode.Conflict, 'This document is pending disposition and cannot change.');
}
