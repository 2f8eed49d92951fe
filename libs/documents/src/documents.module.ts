import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilitySource } from './access/ability-source';
import { InterimAbilitySource } from './access/interim-ability';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { KeyRotationService } from './key-rotation.service';

/** Needs the global Config, Database, Storage, Audit and Crypto modules. */
@Module({
  imports: [TypeOrmModule.forFeature([DocumentEntity, DocumentVersionEntity])],
  providers: [DocumentsRepository, DocumentsService, KeyRotationService, PdfStamper, { provide: AbilitySource, useClass: InterimAbilitySource }],
  exports: [DocumentsRepository, DocumentsService, KeyRotationService],
})
export class DocumentsModule {}
