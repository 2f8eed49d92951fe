import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TRIGGER_PATTERN } from '../retention-period';

/** `PATCH /retention/series/:id`: the code is the series' identity and cannot change. */
export class UpdateSeriesDto {
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

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

  @IsOptional()
  @IsString()
  @Matches(TRIGGER_PATTERN, { message: 'trigger must be "created" or "event:<name>" (lower-case words joined by hyphens)' })
  trigger?: string;

  @IsOptional()
  @IsIn(['destroy', 'review'])
  disposition?: 'destroy' | 'review';

  @IsOptional()
  @IsString()
  @Length(1, 2000)
  citation?: string;
}
