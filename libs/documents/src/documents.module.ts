import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory } from '@kura/access';
import { TransactionRunner } from '@kura/database';
import { DocumentAuthorizer } from './access/document-authorizer';
import { ContentPipeline } from './content/content-pipeline';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentContentService } from './document-content.service';
import { DocumentMetadataService } from './document-metadata.service';
import { DocumentQueriesService } from './document-queries.service';
import { DocumentWritesService } from './document-writes.service';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { DocumentsRepository } from './documents.repository';
import { KeyRotationService } from './key-rotation.service';
import { DocumentLifecycle } from './lifecycle/document-lifecycle.service';
import { VersionDigestService } from './version-digest.service';

/**
 * Needs the global Config, Database, Storage, Audit and Crypto modules. AbilityFactory (the
 * one policy, libs/access) is stateless: provided here too so the worker and CLI can use
 * this module without the HTTP guards.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DocumentEntity, DocumentVersionEntity])],
  providers: [
    TransactionRunner,
    DocumentsRepository,
    DocumentAuthorizer,
    ContentPipeline,
    DocumentWritesService,
    DocumentMetadataService,
    DocumentQueriesService,
    DocumentContentService,
    DocumentLifecycle,
    KeyRotationService,
    VersionDigestService,
    PdfStamper,
    AbilityFactory,
  ],
  exports: [DocumentsRepository, DocumentWritesService, DocumentMetadataService, DocumentQueriesService, DocumentContentService, DocumentLifecycle, KeyRotationService, VersionDigestService],
})
export class DocumentsModule {}
