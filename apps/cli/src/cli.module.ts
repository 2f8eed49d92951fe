import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigModule, KuraConfig } from '@kura/config';
import { CryptoModule } from '@kura/crypto';
import { DatabaseModule } from '@kura/database';
import { DocumentsModule } from '@kura/documents';
import type { Infrastructure } from '@kura/embedded';
import { IdentityModule } from '@kura/identity';
import { StorageModule } from '@kura/storage';

/** The services operator commands need, without HTTP or the scheduler. */
@Module({})
export class CliModule {
  static register(config: KuraConfig, infra: Pick<Infrastructure, 'databaseUrl' | 's3'>): DynamicModule {
    return {
      module: CliModule,
      global: true,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(infra.databaseUrl, 2), StorageModule.forRoot(infra.s3), AuditModule, CryptoModule, DocumentsModule, IdentityModule],
      providers: [{ provide: Clock, useValue: new Clock() }],
      exports: [Clock],
    };
  }
}
