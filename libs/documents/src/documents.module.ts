import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory, DOCUMENT_ROWS, DocumentAccess } from '@kura/access';
import { CryptoModule } from '@kura/crypto';
import { TransactionRunner } from '@kura/database';
import { ContentIntents } from './content/content-intents';
import { ContentPipeline } from './content/content-pipeline';
import { ContentReconciler } from './content/content-reconciler.service';
import { PendingUploadsRepository } from './content/pending-uploads.repository';
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
 * The documents capability's core, for every process: its tables, its lifecycle (the API
 * retention calls), stored content, fixity reads and KEK rotation. Needs the global Config,
 * Database, Storage and Audit modules. AbilityFactory and DocumentAccess (the one policy and
 * the one access decision, libs/access) are provided here so the worker, the CLI and every
 * capability importing this module use them without the HTTP guards.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DocumentEntity, DocumentVersionEntity]), CryptoModule],
  providers: [
    TransactionRunner,
    DocumentsRepository,
    ContentPipeline,
    DocumentLifecycle,
    KeyRotationService,
    VersionDigestService,
    AbilityFactory,
    // The one access decision (libs/access) reads this capability's rows through its repository.
    { provide: DOCUMENT_ROWS, useExisting: DocumentsRepository },
    DocumentAccess,
    PendingUploadsRepository,
    ContentIntents,
    ContentReconciler,
  ],
  exports: [TransactionRunner, DocumentsRepository, ContentPipeline, ContentIntents, ContentReconciler, DocumentLifecycle, KeyRotationService, VersionDigestService, DocumentAccess],
})
export class DocumentsModule {}

/**
 * What people do with documents (the api): the write path, metadata, queries and downloads.
 * The importing application binds SERIES_CHANGE_GUARD and DOCUMENT_TOMBSTONES (retention's
 * answers); they are required, so no process can run a PATCH that skips the legal-hold check.
 */
@Module({
  imports: [DocumentsModule],
  providers: [DocumentWritesService, DocumentMetadataService, DocumentQueriesService, DocumentContentService, PdfStamper],
  exports: [DocumentsModule, DocumentWritesService, DocumentMetadataService, DocumentQueriesService, DocumentContentService],
})
export class DocumentServicesModule {}
