import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JsonLogger } from '@kura/common';
import { ConfigError, loadConfig } from '@kura/config';
import { migrate } from '@kura/database';
import { startInfrastructure } from '@kura/embedded';
import { CliModule } from './cli.module';
import { runCli, USAGE as RETENTION_USAGE } from './cli';
import { KEYS_USAGE, runKeysCommand } from './keys.command';
import { runUsersCommand, USERS_USAGE } from './users.command';

type Command = (args: string[], app: INestApplicationContext, out: (line: string) => void) => Promise<number>;

/** name → command; each helper adds its own (the lead merges this table). */
const commands: Record<string, { usage: string; run: Command }> = {
  keys: { usage: KEYS_USAGE, run: runKeysCommand },
  users: { usage: USERS_USAGE, run: (args, app, out) => runUsersCommand(args, app, out, (line) => console.error(line)) },
};

/** Retention commands manage their own resources: verification is offline, seeding needs only the database. */
const SELF_CONTAINED = new Set(['certificate', 'retention']);

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name && SELF_CONTAINED.has(name)) {
    return runCli(argv, { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  }
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(`usage: npm run cli -- <${[...Object.keys(commands), ...SELF_CONTAINED].join('|')}> …\n\n${Object.values(commands).map((c) => c.usage).join('\n\n')}\n\n${RETENTION_USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const logger = new JsonLogger('warn', (line) => process.stderr.write(line + '\n'));
  const infra = await startInfrastructure(config, logger);
  try {
    await migrate(infra.databaseUrl);
    const app = await NestFactory.createApplicationContext(CliModule.register(config, infra), { logger, abortOnError: false });
    try {
      return await command.run(args, app, (line) => console.log(line));
    } finally {
      await app.close();
    }
  } finally {
    await infra.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`${err instanceof ConfigError ? 'Configuration error' : 'Error'}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
