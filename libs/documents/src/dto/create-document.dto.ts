import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { NO_BIDI_CONTROLS } from '@kura/common';
import { DOCUMENT_KINDS, DocumentKind, PERSONAL_DATA_MARKINGS, PersonalDataMarking } from '../document.entity';
import { IsClassification } from './classification.validator';

export const DEPARTMENT_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u;
export const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:-]{0,63}$/u;

/** The metadata fields of `POST /documents` (multipart), validated like any JSON body. */
export class CreateDocumentDto {
  @IsString()
  @Length(1, 500)
  @Matches(NO_BIDI_CONTROLS, { message: 'title must not contain bidirectional control characters' })
  title!: string;

  @IsIn(DOCUMENT_KINDS)
  kind!: DocumentKind;

  @IsClassification()
  classification!: number;

  @IsString()
  @Matches(DEPARTMENT_PATTERN, { message: 'department must be 1–100 letters, digits, spaces, dots, dashes or underscores' })
  department!: string;

  @IsOptional()
  @Transform(({ value }) => (value === undefined ? value : Array.isArray(value) ? value : [value]))
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(TAG_PATTERN, { each: true, message: 'each tag must be 1–64 letters, digits, spaces or . _ : -' })
  tags?: string[];

  @IsOptional()
  @IsIn(PERSONAL_DATA_MARKINGS)
  personalData?: PersonalDataMarking;

  @IsOptional()
  @IsUUID()
  seriesId?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  reviewDueAt?: string;
}

/** `POST /documents/:id/versions` fields besides the file. */
export class NewVersionDto {
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  comment?: string;
}
