import type { EntityManager } from 'typeorm';

/**
 * Asked inside the PATCH transaction before a document's series changes; throws a
 * DomainError to refuse (e.g. 409 when a legal hold forbids shortening its retention).
 * Bound by the retention capability: `{ provide: SERIES_CHANGE_GUARD, useExisting: SeriesService }`.
 */
export interface SeriesChangeGuard {
  assertSeriesChangeAllowed(manager: EntityManager, documentId: string, newSeriesId: string | null): Promise<void>;
}

export const SERIES_CHANGE_GUARD = Symbol('SERIES_CHANGE_GUARD');
