import { Module } from '@nestjs/common';
import { TransactionRunner } from '@kura/database';
import { RetentionModule } from '../retention.module';
import { FixityService } from './fixity.service';
import { RetentionSweepService } from './retention-sweep.service';

/** The worker's retention jobs. Needs a VERSION_DIGESTER (documents) besides RetentionModule's needs. */
@Module({
  imports: [RetentionModule],
  providers: [TransactionRunner, RetentionSweepService, FixityService],
  exports: [RetentionSweepService, FixityService],
})
export class RetentionJobsModule {}
