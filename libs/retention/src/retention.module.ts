import { Module } from '@nestjs/common';
import { TransactionRunner } from '@kura/database';
import { DocumentsModule } from '@kura/documents';
import { Signer } from '@kura/signing';
import { CERTIFICATE_SIGNER, DispositionExecutor } from './disposition/disposition.executor';
import { DispositionHooks } from './disposition/disposition.hooks';
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
 * application (global providers): Clock, KuraConfig, AuditService, ObjectStore, Signer,
 * and the crypto module the documents capability needs.
 */
@Module({
  // A document's life (holds, crypto-erase, destruction) changes only through the documents capability's DocumentLifecycle.
  imports: [DocumentsModule],
  providers: [
    // Certificates are signed with the service key that also signs audit checkpoints (KEYS_DIR).
    { provide: CERTIFICATE_SIGNER, useExisting: Signer },
    TransactionRunner,
    SeriesRepository,
    SeriesService,
    RetentionRepository,
    RetentionEventsService,
    HoldsRepository,
    HoldsService,
    DispositionRepository,
    DispositionExecutor,
    DispositionHooks,
    DispositionService,
  ],
  exports: [SeriesService, RetentionEventsService, HoldsService, DispositionService, DispositionExecutor, DispositionHooks, RetentionRepository, DispositionRepository],
})
export class RetentionModule {}
