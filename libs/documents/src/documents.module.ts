import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory } from '@kura/access';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
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
  providers: [DocumentsRepository, DocumentsService, DocumentLifecycle, KeyRotationService, VersionDigestService, PdfStamper, AbilityFactory],
  exports: [DocumentsRepository, DocumentsService, DocumentLifecycle, KeyRotationService, VersionDigestService],
})
export class DocumentsModule {}
