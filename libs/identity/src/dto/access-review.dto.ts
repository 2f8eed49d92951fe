import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateSignoffDto {
  @ApiPropertyOptional({ description: 'Findings or remarks of the reviewer.' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  comment?: string;
}
