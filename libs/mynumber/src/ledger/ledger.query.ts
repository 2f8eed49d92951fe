import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';

export const LEDGER_FORMATS = ['json', 'csv', 'pdf'] as const;
export type LedgerFormat = (typeof LEDGER_FORMATS)[number];

/** GET /mynumber/ledger. */
export class LedgerQuery {
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601, exclusive' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;

  @ApiPropertyOptional({ description: "the documents' owning department" })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  department?: string;

  @ApiPropertyOptional({ enum: LEDGER_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(LEDGER_FORMATS)
  format?: LedgerFormat;
}
