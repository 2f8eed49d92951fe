import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches, ValidateIf } from 'class-validator';
import { NO_BIDI_CONTROLS } from '@kura/common';
import { IsClassification } from './classification.validator';
import { TAG_PATTERN } from './create-document.dto';

export class UpdateDocumentDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @Matches(NO_BIDI_CONTROLS, { message: 'title must not contain bidirectional control characters' })
  title?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be 1–64 letters, digits, spaces or . _ : -' })
  tags?: string[];

  @ApiPropertyOptional({ description: 'PUBLIC, INTERNAL, CONFIDENTIAL, SECRET or 0–3' })
  @IsOptional()
  @IsClassification()
  classification?: number;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf((_, v) => v !== null)
  @IsOptional()
  @IsISO8601({ strict: true })
  reviewDueAt?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @ValidateIf((_, v) => v !== null)
  @IsOptional()
  @IsUUID()
  seriesId?: string | null;
}
