import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const PURPOSE_CODE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export class CreatePurposeDto {
  @ApiProperty({ example: 'withholding-slip', description: 'ASCII kebab-case: what X-Purpose carries' })
  @IsString()
  @MaxLength(64)
  @Matches(PURPOSE_CODE, { message: 'code must be lowercase kebab-case ASCII, e.g. withholding-slip' })
  code!: string;

  @ApiProperty({ example: '源泉徴収票作成' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  nameJa!: string;

  @ApiProperty({ example: 'Preparing withholding tax slips' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  nameEn!: string;
}

export class SetPurposesDto {
  @ApiProperty({ type: [String], example: ['withholding-slip', 'social-insurance'], description: 'purpose codes; [] clears' })
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @Matches(PURPOSE_CODE, { each: true, message: 'each purpose must be a purpose code' })
  purposes!: string[];
}
