import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, IsUUID, Length } from 'class-validator';

/** `POST /holds`. */
export class CreateHoldDto {
  @IsString()
  @Length(1, 200)
  name!: string;

  @IsString()
  @Length(1, 2000)
  reason!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  documentIds!: string[];
}
