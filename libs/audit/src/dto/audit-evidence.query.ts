import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AuditEventsQuery } from './audit-events.query';

/**
 * GET /audit/evidence: `from`/`to` (ISO 8601) and/or `fromSeq`/`toSeq` (inclusive) select one
 * contiguous sequence range; actor, action, targetId or outcome make it a filtered export
 * (each event's authenticity, not completeness).
 */
export class AuditEvidenceQuery extends PickType(AuditEventsQuery, ['actor', 'action', 'targetId', 'outcome', 'from', 'to'] as const) {
  @ApiPropertyOptional({ minimum: 1, description: 'first sequence number (inclusive)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  fromSeq?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'last sequence number (inclusive)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  toSeq?: number;
}
