import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { GRANT_STATUSES, type GrantStatus } from '../privilege-grant.entity';

export class ListGrantsQuery {
  @ApiPropertyOptional({ enum: GRANT_STATUSES })
  @IsOptional()
  @IsIn(GRANT_STATUSES)
  status?: GrantStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only the grants of this user.' })
  @IsOptional()
  @IsUUID()
  userId?: string;
}

export class DecideGrantDto {
  @ApiPropertyOptional({ description: 'Why: e.g. the appointment letter checked. Recorded on the grant and in the audit event.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}
