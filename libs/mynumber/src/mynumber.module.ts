import { Module } from '@nestjs/common';
import { DocumentsModule } from '@kura/documents';
import { LedgerService } from './ledger/ledger.service';
import { SpecificInventory } from './ledger/specific-inventory';
import { PurposesRepository } from './purposes/purposes.repository';
import { PurposesService } from './purposes/purposes.service';

/**
 * My Number oversight: the purposes list and the purpose gate, the handling ledger. Needs the
 * global Config, Database and Audit modules; access decisions come from DocumentsModule's DocumentAccess.
 */
@Module({
  imports: [DocumentsModule],
  providers: [PurposesRepository, PurposesService, LedgerService, SpecificInventory],
  exports: [PurposesService, LedgerService, SpecificInventory],
})
export class MyNumberModule {}
