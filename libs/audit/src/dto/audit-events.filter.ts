import { DomainError } from '@kura/common';
import type { AuditEventFilter } from '../audit-query.types';
import type { AuditEventsQuery } from './audit-events.query';

/** The query's filters as the repository takes them; the same for the paged search and the exports. */
export function auditEventFilter(q: AuditEventsQuery): AuditEventFilter {
  const from = q.from === undefined ? undefined : new Date(q.from);
  const to = q.to === undefined ? undefined : new Date(q.to);
  if (from && to && from > to) throw DomainError.validation('from must not be after to.', [{ field: 'from', messages: ['from must not be after to'] }]);
  return { actor: q.actor, action: q.action, targetId: q.targetId, outcome: q.outcome, from, to };
}

/** The filters as the caller gave them, for audit details and report headers (absent ones left out). */
export function auditFilterDetails(q: AuditEventsQuery): Record<string, string> {
  const given: Record<string, string> = {};
  for (const key of ['actor', 'action', 'targetId', 'outcome', 'from', 'to'] as const) {
    const value = q[key];
    if (value !== undefined) given[key] = value;
  }
  return given;
}
