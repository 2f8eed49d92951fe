import { OmitType, PartialType } from '@nestjs/swagger';
import { CreateSeriesDto } from './create-series.dto';

/**
 * `PATCH /retention/series/:id`: any field of the create body but the code (the series'
 * identity cannot change), each optional, with the same validation (mapped types copy the
 * class-validator and class-transformer metadata).
 */
export class UpdateSeriesDto extends PartialType(OmitType(CreateSeriesDto, ['code'] as const)) {}
