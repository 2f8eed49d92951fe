import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { DocumentIdsProperty } from '../document-ids.property';

/** `POST /holds`. */
export class CreateHoldDto {
  @ApiProperty({ example: '労働者名簿' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'litigation' })
  @IsString()
  @Length(1, 2000)
  reason!: string;

  @DocumentIdsProperty()
  documentIds!: string[];
}
