import { Module } from '@nestjs/common';
import { RetentionModule } from '../retention.module';
import { FixityService } from './fixity.service';
import { RetentionSweepService } from './retention-sweep.service';

/** The worker's retention jobs. Needs a VERSION_DIGESTER (documents) besides RetentionModule's needs. */
@Module({
  imports: [RetentionModule],
  providers: [RetentionSweepService, FixityService],
  exports: [RetentionSweepService, FixityService],
})
export class RetentionJobsModule {}
