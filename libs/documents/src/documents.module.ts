import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory, DOCUMENT_ROWS, DocumentAccess } from '@kura/access';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { KeyRotationService } from './key-rotation.service';
import { VersionDigestService } from './version-digest.service';

/**
 * Needs the global Config, Database, Storage, Audit and Crypto modules. AbilityFactory and
 * DocumentAccess (the one policy and the one access decision, libs/access) are provided
 * here so the worker, the CLI and every capability importing this module use them without
 * the HTTP guards.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DocumentEntity, DocumentVersionEntity])],
  providers: [
    DocumentsRepository,
    DocumentsService,
    KeyRotationService,
    VersionDigestService,
    PdfStamper,
    AbilityFactory,
    // The one access decision (libs/access) reads this capability's rows through its repository.
    { provide: DOCUMENT_ROWS, useExisting: DocumentsRepository },
    DocumentAccess,
  ],
  exports: [DocumentsRepository, DocumentsService, KeyRotationService, VersionDigestService, DocumentAccess],
})
export class DocumentsModule {}
