import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class PublicKeyQuery {
  @ApiPropertyOptional({ description: 'A signing key id (e.g. of a checkpoint or certificate signed before a key rotation); default: the current key' })
  @IsOptional()
  @Matches(/^[0-9a-f]{16}$/, { message: 'keyId must be 16 lowercase hex characters' })
  keyId?: string;
}
