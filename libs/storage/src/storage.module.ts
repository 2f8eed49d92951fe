import { DynamicModule, Global, Module } from '@nestjs/common';
import type { S3Settings } from '@kura/config';
import { ObjectStore, S3_SETTINGS } from './object-store';

@Global()
@Module({})
export class StorageModule {
  static forRoot(settings: S3Settings): DynamicModule {
    return {
      module: StorageModule,
      providers: [{ provide: S3_SETTINGS, useValue: settings }, ObjectStore],
      exports: [ObjectStore],
    };
  }
}
