import { DynamicModule, Module } from '@nestjs/common';
import { AccessModule } from '@kura/access';
import { AuditModule } from '@kura/audit';
import { Clock } from '@kura/common';
import { ConfigModule, KuraConfig } from '@kura/config';
import { DatabaseModule } from '@kura/database';
import type { Infrastructure } from '@kura/embedded';
import { StorageModule } from '@kura/storage';
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
        RetentionHttpModule,
      ],
      controllers: [HealthController, KeysController, AuditController],
      providers: [{ provide: Clock, useValue: clock }],
      exports: [Clock],
      global: true,
    };
  }
}
