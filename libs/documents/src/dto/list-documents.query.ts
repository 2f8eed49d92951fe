import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { DOCUMENT_KINDS, DocumentKind } from '../document.entity';
import { IsClassification } from './classification.validator';

// A date-time without a zone would mean the server's local time: refused rather than guessed.
const DATE_OR_ZONED = /^\d{4}-\d{2}-\d{2}(T.*(Z|[+-]\d{2}:?\d{2}))?$/;

function Instant(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    IsISO8601({ strict: true, strictSeparator: true }),
    Matches(DATE_OR_ZONED, { message: '$property must be a date (YYYY-MM-DD) or a date-time with a zone (Z or ±hh:mm)' }),
  );
}

export class ListDocumentsQuery {
  @ApiPropertyOptional({ description: 'text in the title' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: DOCUMENT_KINDS })
  @IsOptional()
  @IsIn(DOCUMENT_KINDS)
  kind?: DocumentKind;

  @ApiPropertyOptional()
  @IsOptional()
  @IsClassification()
  classification?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 100)
  department?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 64)
  tag?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  reviewOverdue?: boolean;

  @ApiPropertyOptional({ format: 'uuid', description: 'documents assigned to this series of the file plan' })
  @IsOptional()
  @IsUUID('all')
  seriesId?: string;

  @ApiPropertyOptional({ example: '2026-04-01T00:00:00+09:00', description: 'created at or after this instant (inclusive); ISO 8601 date (UTC midnight) or date-time with a zone' })
  @Instant()
  createdFrom?: string;

  @ApiPropertyOptional({ example: '2026-05-01T00:00:00+09:00', description: 'created before this instant (exclusive); must be after `createdFrom`' })
  @Instant()
  createdTo?: string;

  @ApiPropertyOptional({ example: '2027-04-01', description: 'review date at or after this instant (inclusive); same format as `createdFrom`' })
  @Instant()
  reviewDueFrom?: string;

  @ApiPropertyOptional({ example: '2027-05-01', description: 'review date before this instant (exclusive); must be after `reviewDueFrom`' })
  @Instant()
  reviewDueTo?: string;

  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  page?: number;

  @ApiPropertyOptional({ description: 'keyset paging: the `nextCursor` of the previous page (then leave out `page`); the same cost at any depth' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,300}$/, { message: 'after must be a nextCursor from a previous page' })
  after?: string;

  @ApiPropertyOptional({ default: 20, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize?: number;
}

export class InventoryQuery {
  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';

  @ApiPropertyOptional({ description: 'csv: start with a UTF-8 byte order mark (Excel in Japanese locales); default true when the request prefers ja' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  bom?: boolean;
}
