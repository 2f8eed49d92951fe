import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory } from '@kura/access';
import { ContentIntents } from './content/content-intents';
import { ContentReconciler } from './content/content-reconciler.service';
import { PendingUploadsRepository } from './content/pending-uploads.repository';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { KeyRotationService } from './key-rotation.service';
import { VersionDigestService } from './version-digest.service';

/**
 * Needs the global Config, Database, Storage, Audit and Crypto modules. AbilityFactory (the
 * one policy, libs/access) is stateless: provided here too so the worker and CLI can use
 * this module without the HTTP guards.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DocumentEntity, DocumentVersionEntity])],
  providers: [DocumentsRepository, DocumentsService, KeyRotationService, VersionDigestService, PdfStamper, AbilityFactory, PendingUploadsRepository, ContentIntents, ContentReconciler],
  exports: [DocumentsRepository, DocumentsService, KeyRotationService, VersionDigestService, ContentReconciler],
})
export class DocumentsModule {}
