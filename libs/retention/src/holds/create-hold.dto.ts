import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, IsUUID, Length } from 'class-validator';

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

  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  documentIds!: string[];
}
