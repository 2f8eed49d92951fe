import { PickType } from '@nestjs/swagger';
import { AuditEventsQuery } from './audit-events.query';

/**
 * GET /audit/evidence: `from`/`to` (ISO 8601) select the contiguous sequence range of the events
 * stored in that time window; actor, action, targetId or outcome make it a filtered export
 * (each event's authenticity, not completeness).
 */
export class AuditEvidenceQuery extends PickType(AuditEventsQuery, ['actor', 'action', 'targetId', 'outcome', 'from', 'to'] as const) {}
