import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { type Actor, CurrentActor } from '@kura/identity';
import { RecordedEvent, RecordEventsDto, RetentionEventsService } from '@kura/retention';

@ApiTags('retention')
@ApiBearerAuth()
@Controller('retention/events')
export class RetentionEventsController {
  constructor(private readonly events: RetentionEventsService) {}

  @Policy('manage', 'Series')
  @Post()
  @HttpCode(201)
  record(@CurrentActor() actor: Actor, @Body() dto: RecordEventsDto): Promise<{ items: RecordedEvent[] }> {
    return this.events.record(actor, dto);
  }
}
