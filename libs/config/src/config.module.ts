import { DynamicModule, Global, Module } from '@nestjs/common';
import { KuraConfig } from './config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: KuraConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: KuraConfig, useValue: config }], exports: [KuraConfig] };
  }
}
