import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsUUID } from 'class-validator';

/** The documents a retention request acts on: 1–1,000 distinct UUIDs (one bound for holds, events and batches). */
export function DocumentIdsProperty(): PropertyDecorator {
  return applyDecorators(ApiProperty({ type: [String] }), IsArray(), ArrayMinSize(1), ArrayMaxSize(1000), ArrayUnique(), IsUUID('all', { each: true }));
}
