import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SigningModule } from '@kura/signing';
import { AuditCheckpointEntity } from './audit-checkpoint.entity';
import { AuditCheckpointRepository } from './audit-checkpoint.repository';
import { AuditCheckpointService } from './audit-checkpoint.service';
import { AuditEventEntity } from './audit-event.entity';
import { AuditTrailService } from './audit-trail.service';
import { AuditVerifier } from './audit-verifier';
import { AuditSequencer } from './audit-sequencer';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AuditEvidenceService } from './evidence/audit-evidence.service';
import { AuditExportService } from './export/audit-export.service';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity, AuditCheckpointEntity]), SigningModule],
  providers: [
    AuditRepository, AuditSequencer, AuditService, AuditCheckpointRepository, AuditCheckpointService, AuditVerifier, AuditTrailService,
    AuditExportService, AuditEvidenceService,
  ],
  exports: [AuditService, AuditRepository, AuditSequencer, AuditCheckpointService, AuditVerifier, AuditTrailService, AuditExportService, AuditEvidenceService],
})
export class AuditModule {}
