import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TRIGGER_PATTERN } from '../retention-period';

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

  @ApiPropertyOptional({ example: 5 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(200)
  years?: number;

  @ApiPropertyOptional({ example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2400)
  months?: number;

  @ApiPropertyOptional({ example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(73000)
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

  @ApiPropertyOptional({ example: 7 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(200)
  minimumYears?: number;

  @ApiPropertyOptional({ example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2400)
  minimumMonths?: number;

  @ApiPropertyOptional({ example: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(73000)
  minimumDays?: number;

  @ApiProperty({ example: 'destroy' })
  @IsIn(['destroy', 'review'])
  disposition!: 'destroy' | 'review';

  @ApiProperty({ example: '労働基準法 第109条' })
  @IsString()
  @Length(1, 2000)
  citation!: string;
}
