import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { TRIGGER_PATTERN } from '../retention-period';

/** `PATCH /retention/series/:id`: the code is the series' identity and cannot change. */
export class UpdateSeriesDto {
  @ApiPropertyOptional({ example: '労働者名簿' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

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

  @ApiPropertyOptional({ example: 'event:employment-ended' })
  @IsOptional()
  @IsString()
  @Matches(TRIGGER_PATTERN, { message: 'trigger must be "created" or "event:<name>" (lower-case words joined by hyphens)' })
  trigger?: string;

  @ApiPropertyOptional({ example: 'destroy' })
  @IsOptional()
  @IsIn(['destroy', 'review'])
  disposition?: 'destroy' | 'review';

  @ApiPropertyOptional({ example: '労働基準法 第109条' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  citation?: string;
}
