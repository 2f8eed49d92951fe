import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KuraConfig } from '@kura/config';

/** Defaults when no configuration is provided (tools and tests that build the module alone). */
const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
const DEFAULT_POOL_TIMEOUT_MS = 5_000;

@Module({})
export class DatabaseModule {
  /** Connects to `databaseUrl`; migrations must already have been applied (see `migrate`). */
  static forRoot(databaseUrl: string, poolSize = 20): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [{ token: KuraConfig, optional: true }],
          useFactory: (config?: KuraConfig) => {
            const statementMs = config?.databaseStatementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
            return {
              type: 'postgres',
              url: databaseUrl,
              autoLoadEntities: true,
              synchronize: false,
              migrationsRun: false,
              logging: false,
              applicationName: 'kura',
              extra: {
                max: poolSize,
                // A dead or frozen PostgreSQL fails requests (503) instead of hanging them:
                // waiting for a pooled connection, a statement on the server, and the reply on the client.
                connectionTimeoutMillis: config?.databasePoolTimeoutMs ?? DEFAULT_POOL_TIMEOUT_MS,
                statement_timeout: statementMs,
                query_timeout: statementMs + 5_000,
                idle_in_transaction_session_timeout: statementMs,
              },
            };
          },
        }),
      ],
    };
  }
}
