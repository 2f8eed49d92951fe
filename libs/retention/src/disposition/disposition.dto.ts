import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, ValidateIf, ValidateNested } from 'class-validator';
import { DocumentIdsProperty } from '../document-ids.property';

/** `POST /disposition/batches`. */
export class ProposeBatchDto {
  @DocumentIdsProperty()
  documentIds!: string[];
}

/** A review decision for a document whose series says `review`: destroy it, or keep it longer and say why. */
export class ReviewDecisionDto {
  @ApiProperty()
  @IsUUID()
  documentId!: string;

  @ApiProperty({ example: 'destroy' })
  @IsIn(['destroy', 'extend'])
  decision!: 'destroy' | 'extend';

  @ApiPropertyOptional({ example: 'litigation' })
  @ValidateIf((d: ReviewDecisionDto) => d.decision === 'extend' || d.reason !== undefined)
  @IsString()
  @Length(1, 2000)
  reason?: string;

  @ApiPropertyOptional({ example: '2040-01-01T00:00:00Z' })
  @ValidateIf((d: ReviewDecisionDto) => d.decision === 'extend' || d.extendUntil !== undefined)
  @IsISO8601({ strict: true })
  extendUntil?: string;
}

/** `POST /disposition/batches/:id/approve` (body optional). */
export class ApproveBatchDto {
  @ApiPropertyOptional({ type: () => [ReviewDecisionDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ReviewDecisionDto)
  decisions?: ReviewDecisionDto[];
}
