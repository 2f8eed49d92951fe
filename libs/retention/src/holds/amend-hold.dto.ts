import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsOptional, IsString, IsUUID, Length } from 'class-validator';

function DocumentIdsChange(description: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: [String], description }), IsOptional(), IsArray(), ArrayMinSize(1), ArrayMaxSize(1000), ArrayUnique(), IsUUID('all', { each: true }));
}

/** `PATCH /holds/:id`: every field optional, at least one given; the hold must be active. */
export class AmendHoldDto {
  @ApiPropertyOptional({ example: '労働者名簿 (第二次請求)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ example: 'litigation, second claim' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  reason?: string;

  @DocumentIdsChange('documents to place under this hold (checked like placing a hold; none may be on it already)')
  addDocumentIds?: string[];

  @DocumentIdsChange('documents to release from this hold (each must be on it); active again only when no other hold holds it')
  removeDocumentIds?: string[];
}
