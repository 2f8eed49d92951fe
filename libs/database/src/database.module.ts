import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

@Module({})
export class DatabaseModule {
  /** Connects to `databaseUrl`; migrations must already have been applied (see `migrate`). */
  static forRoot(databaseUrl: string, poolSize = 20): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: databaseUrl,
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false,
          logging: false,
          applicationName: 'kura',
          extra: { max: poolSize },
        }),
      ],
    };
  }
}
