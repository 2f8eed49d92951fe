import { Module } from '@nestjs/common';
import { RetentionModule } from '@kura/retention';
import { DispositionController } from './disposition.controller';
import { HoldsController } from './holds.controller';
import { RetentionEventsController } from './retention-events.controller';
import { SeriesController } from './series.controller';

/** The HTTP edge of retention: thin controllers over @kura/retention services. */
@Module({
  imports: [RetentionModule],
  controllers: [SeriesController, RetentionEventsController, HoldsController, DispositionController],
})
export class RetentionHttpModule {}
