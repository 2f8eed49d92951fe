import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TRIGGER_PATTERN } from '../retention-period';

/** Upper bounds of each part of a retention period (about 200 years, whichever unit). */
const MAX_PERIOD = { years: 200, months: 2400, days: 73000 } as const;

/** One optional whole-number part of a period (the series' own or its statutory minimum). */
const PeriodPart = (example: number, max: number) =>
  applyDecorators(ApiPropertyOptional({ example }), IsOptional(), Type(() => Number), IsInt(), Min(0), Max(max));

export const SERIES_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `POST /retention/series`: one file-plan entry. */
export class CreateSeriesDto {
  @ApiProperty({ example: 'JP-LABOR-WORKER-ROSTER' })
  @IsString()
  @Matches(SERIES_CODE_PATTERN, { message: 'code must be 1–64 letters, digits, dots, dashes or underscores' })
  code!: string;

  @ApiProperty({ example: '労働者名簿' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @PeriodPart(5, MAX_PERIOD.years)
  years?: number;

  @PeriodPart(0, MAX_PERIOD.months)
  months?: number;

  @PeriodPart(0, MAX_PERIOD.days)
  days?: number;

  @ApiProperty({ example: 'event:employment-ended' })
  @IsString()
  @Matches(TRIGGER_PATTERN, { message: 'trigger must be "created" or "event:<name>" (lower-case words joined by hyphens)' })
  trigger!: string;

  @ApiPropertyOptional({
    type: String,
    example: 'event:filing-deadline',
    nullable: true,
    description: 'A statutory minimum: the record is kept until the LATER of trigger + period and minimumTrigger + minimum period (null: none)',
  })
  @IsOptional()
  @IsString()
  @Matches(TRIGGER_PATTERN, { message: 'minimumTrigger must be "created" or "event:<name>" (lower-case words joined by hyphens)' })
  minimumTrigger?: string | null;

  @PeriodPart(7, MAX_PERIOD.years)
  minimumYears?: number;

  @PeriodPart(0, MAX_PERIOD.months)
  minimumMonths?: number;

  @PeriodPart(0, MAX_PERIOD.days)
  minimumDays?: number;

  @ApiProperty({ example: 'destroy' })
  @IsIn(['destroy', 'review'])
  disposition!: 'destroy' | 'review';

  @ApiProperty({ example: '労働基準法 第109条' })
  @IsString()
  @Length(1, 2000)
  citation!: string;
}
