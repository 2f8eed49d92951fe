import { Module } from '@nestjs/common';
import { DispositionExecutor } from './disposition/disposition.executor';
import { DispositionRepository } from './disposition/disposition.repository';
import { DispositionService } from './disposition/disposition.service';
import { RetentionEventsService } from './events/retention-events.service';
import { HoldsRepository } from './holds/holds.repository';
import { HoldsService } from './holds/holds.service';
import { RetentionRepository } from './retention.repository';
import { SeriesRepository } from './series/series.repository';
import { SeriesService } from './series/series.service';

/**
 * File plan, retention, holds and certified disposition. Needs, from the importing
 * application: Clock, KuraConfig, AuditService, ObjectStore and a CERTIFICATE_SIGNER.
 */
@Module({
  providers: [
    SeriesRepository,
    SeriesService,
    RetentionRepository,
    RetentionEventsService,
    HoldsRepository,
    HoldsService,
    DispositionRepository,
    DispositionExecutor,
    DispositionService,
  ],
  exports: [SeriesService, RetentionEventsService, HoldsService, DispositionService, DispositionExecutor, RetentionRepository, DispositionRepository],
})
export class RetentionModule {}
