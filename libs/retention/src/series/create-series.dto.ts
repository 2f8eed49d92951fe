import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TRIGGER_PATTERN } from '../retention-period';

export const SERIES_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `POST /retention/series`: one file-plan entry. */
export class CreateSeriesDto {
  @IsString()
  @Matches(SERIES_CODE_PATTERN, { message: 'code must be 1–64 letters, digits, dots, dashes or underscores' })
  code!: string;

  @IsString()
  @Length(1, 200)
  name!: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(200)
  years?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2400)
  months?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(73000)
  days?: number;

  @IsString()
  @Matches(TRIGGER_PATTERN, { message: 'trigger must be "created" or "event:<name>" (lower-case words joined by hyphens)' })
  trigger!: string;

  @IsIn(['destroy', 'review'])
  disposition!: 'destroy' | 'review';

  @IsString()
  @Length(1, 2000)
  citation!: string;
}
