import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Clock, JsonLogger } from '@kura/common';
import { KuraConfig, loadConfig } from '@kura/config';
import { migrate } from '@kura/database';
import { Infrastructure, startInfrastructure } from '@kura/embedded';
import { createWorker } from '../../worker/src/worker.factory';
import { CliModule } from './cli.module';
import type { CliIo } from './command';

/** Starts what a command asks for, once, and stops it all when the command ends. */
export class CliRuntime {
  private configValue?: KuraConfig;
  private infra?: Promise<Infrastructure>;
  private readonly closers: Array<() => Promise<unknown>> = [];
  private readonly logger: JsonLogger;

  constructor(private readonly io: CliIo) {
    this.logger = new JsonLogger('warn', (line) => io.err(line));
  }

  config(): KuraConfig {
    this.configValue ??= loadConfig(this.io.env);
    return this.configValue;
  }

  private async infrastructure(): Promise<Infrastructure> {
    this.infra ??= (async () => {
      const infra = await startInfrastructure(this.config(), this.logger);
      this.closers.push(() => infra.stop());
      await migrate(infra.databaseUrl);
      return infra;
    })();
    return this.infra;
  }

  async database(): Promise<string> {
    return (await this.infrastructure()).databaseUrl;
  }

  async services(): Promise<INestApplicationContext> {
    const infra = await this.infrastructure();
    const app = await NestFactory.createApplicationContext(CliModule.register(this.config(), infra), { logger: this.logger, abortOnError: false });
    this.closers.push(() => app.close());
    return app;
  }

  async worker(): Promise<INestApplicationContext> {
    const infra = await this.infrastructure();
    const app = await createWorker(this.config(), infra, this.logger, new Clock(), { schedule: false });
    this.closers.push(() => app.close());
    return app;
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    this.closers.length = 0;
  }
}
