import { DynamicModule, Module } from '@nestjs/common';
import { AccessModule } from '@kura/access';
import { AuditModule } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigModule, KuraConfig } from '@kura/config';
import { CryptoModule } from '@kura/crypto';
import { DatabaseModule } from '@kura/database';
import { DOCUMENT_TOMBSTONES, DocumentServicesModule, SERIES_CHANGE_GUARD } from '@kura/documents';
import type { Infrastructure } from '@kura/embedded';
import { DispositionService, RetentionModule, SeriesService } from '@kura/retention';
import { StorageModule } from '@kura/storage';
import { DocumentsController } from './documents/documents.controller';
import { InventoryController } from './documents/inventory.controller';
import { AuditController } from './audit/audit.controller';
import { HealthController } from './health/health.controller';
import { IdentityApiModule } from './identity/identity-api.module';
import { KeysController } from './keys/keys.controller';
import { RetentionHttpModule } from './retention/retention-http.module';

@Module({})
export class AppModule {
  static register(config: KuraConfig, infra: Pick<Infrastructure, 'databaseUrl' | 's3'>, clock = new Clock()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(infra.databaseUrl),
        StorageModule.forRoot(infra.s3),
        AuditModule,
        AccessModule,
        IdentityApiModule,
        CryptoModule,
        DocumentServicesModule,
        RetentionModule,
        RetentionHttpModule,
      ],
      controllers: [HealthController, KeysController, AuditController, DocumentsController, InventoryController],
      providers: [
        { provide: Clock, useValue: clock },
        // A document's series change asks retention's legal-hold check inside its transaction.
        { provide: SERIES_CHANGE_GUARD, useExisting: SeriesService },
        // A destroyed document's metadata links to its certificate of deletion.
        { provide: DOCUMENT_TOMBSTONES, useExisting: DispositionService },
      ],
      exports: [Clock, SERIES_CHANGE_GUARD, DOCUMENT_TOMBSTONES],
      global: true,
    };
  }
}
