import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { CLASSIFICATION_NAMES, parseClassification } from '@kura/common';
import { Designation, Role } from '../actor';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
export const DEPARTMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A classification level name (PUBLIC…SECRET) or its number 0–3. */
export function IsClassification(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isClassification',
      validator: {
        validate: (value: unknown) => parseClassification(value) !== undefined,
        defaultMessage: (args) => `${args?.property} must be one of ${CLASSIFICATION_NAMES.join(', ')} or 0–3`,
      },
    },
    options,
  );
}

const ROLES = Object.values(Role);
const DESIGNATIONS = Object.values(Designation);

export class CreateUserDto {
  @ApiProperty({ example: 'h.tanaka' })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 3–64 letters, digits, dots, dashes or underscores' })
  username!: string;

  @ApiProperty({ description: 'Temporary password: the user must change it at first login.' })
  @IsString()
  @MaxLength(256)
  password!: string;

  @ApiProperty({ example: '田中 花子' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName!: string;

  @ApiProperty({ enum: ROLES, isArray: true })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(4)
  @IsIn(ROLES, { each: true })
  roles!: Role[];

  @ApiProperty({ oneOf: [{ type: 'string', enum: [...CLASSIFICATION_NAMES] }, { type: 'integer', minimum: 0, maximum: 3 }] })
  @IsClassification()
  clearance!: string | number;

  @ApiProperty({ type: [String], example: ['general-affairs'] })
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(DEPARTMENT_PATTERN, { each: true, message: 'each department must be 1–64 letters, digits, dots, dashes or underscores' })
  departments!: string[];

  @ApiProperty({ enum: DESIGNATIONS, isArray: true })
  @IsArray()
  @ArrayUnique()
  @IsIn(DESIGNATIONS, { each: true })
  designations!: Designation[];
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  displayName?: string;

  @ApiPropertyOptional({ enum: ROLES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(4)
  @IsIn(ROLES, { each: true })
  roles?: Role[];

  @ApiPropertyOptional({ oneOf: [{ type: 'string', enum: [...CLASSIFICATION_NAMES] }, { type: 'integer', minimum: 0, maximum: 3 }] })
  @IsOptional()
  @IsClassification()
  clearance?: string | number;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(DEPARTMENT_PATTERN, { each: true, message: 'each department must be 1–64 letters, digits, dots, dashes or underscores' })
  departments?: string[];

  @ApiPropertyOptional({ enum: DESIGNATIONS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(DESIGNATIONS, { each: true })
  designations?: Designation[];

  @ApiPropertyOptional({ description: 'Resets the password to a temporary one: the user must change it at next login.' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({ description: 'Reactivates a deactivated user (deactivate with POST /users/:id/deactivate).' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
