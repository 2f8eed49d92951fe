import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsString, Matches } from 'class-validator';
import { EVENT_NAME_PATTERN } from '../retention-period';
import { DocumentIdsProperty } from '../document-ids.property';

/** `POST /retention/events`: the day an event-based retention trigger fired for these documents. */
export class RecordEventsDto {
  @ApiProperty({ example: 'employment-ended' })
  @IsString()
  @Matches(EVENT_NAME_PATTERN, { message: 'event must be lower-case words joined by hyphens, e.g. employment-ended' })
  event!: string;

  @ApiProperty({ example: '2026-03-31T00:00:00Z' })
  @IsISO8601({ strict: true })
  occurredAt!: string;

  @DocumentIdsProperty()
  documentIds!: string[];
}
