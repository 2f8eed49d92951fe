import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { AuditOutcome } from '../audit.types';

export const AUDIT_PAGE_SIZE_MAX = 500;

export const AUDIT_EVENT_FORMATS = ['json', 'csv', 'jsonl', 'pdf'] as const;
export type AuditEventsFormat = (typeof AUDIT_EVENT_FORMATS)[number];

/** page and pageSize for the paged audit lists. */
export class PagingQuery {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_SIZE_MAX, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_SIZE_MAX)
  pageSize?: number;
}

export class AuditEventsQuery extends PagingQuery {
  @ApiPropertyOptional({ description: 'User id (UUID) or username' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({ example: 'document.read' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, { message: 'action must be a dotted name such as document.read' })
  action?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  targetId?: string;

  @ApiPropertyOptional({ enum: ['allowed', 'denied', 'failed'] })
  @IsOptional()
  @IsIn(['allowed', 'denied', 'failed'])
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;

  @ApiPropertyOptional({
    enum: AUDIT_EVENT_FORMATS,
    default: 'json',
    description:
      'json: one page ({items, page, pageSize, total}). csv, jsonl: every matching event in chain order, streamed as a download. ' +
      'pdf: a report for people, refused (413) above AUDIT_EXPORT_PDF_MAX_EVENTS events.',
  })
  @IsOptional()
  @IsIn(AUDIT_EVENT_FORMATS)
  format?: AuditEventsFormat;

  @ApiPropertyOptional({ description: 'csv: start with a UTF-8 byte order mark (Excel in Japanese locales); default true when the request prefers ja' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  bom?: boolean;
}
