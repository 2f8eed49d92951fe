import type { Actor } from '@kura/identity';

/**
 * Purpose-bound access to specific personal information: asked on every read, download and
 * new version of a document, after access was granted. For a `specific` document it returns
 * the permitted purpose the request names (recorded in the audit event), or throws a
 * DomainError (400 none named, 403 not permitted), having audited the refusal; for any other
 * document it returns {}. Bound by the mynumber capability: `{ provide: PURPOSE_GATE, useExisting: PurposesService }`;
 * required, like SERIES_CHANGE_GUARD, so no process can read a `specific` document without it.
 */
export interface PurposeGate {
  requirePurpose(actor: Actor, doc: { id: string; personalData: string; seriesId: string | null }, auditAction: string): Promise<{ purpose?: string }>;
}

export const PURPOSE_GATE = Symbol('PURPOSE_GATE');
