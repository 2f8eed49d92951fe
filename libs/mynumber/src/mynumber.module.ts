import { Module } from '@nestjs/common';
import { AbilityFactory } from '@kura/access';
import { DocumentsModule } from '@kura/documents';
import { PurposesRepository } from './purposes/purposes.repository';
import { PurposesService } from './purposes/purposes.service';

/**
 * My Number oversight: the purposes list and the purpose gate, the handling ledger. Needs the
 * global Config, Database and Audit modules; AbilityFactory (stateless) is provided here too.
 */
@Module({
  imports: [DocumentsModule],
  providers: [PurposesRepository, PurposesService, AbilityFactory],
  exports: [PurposesService],
})
export class MyNumberModule {}
