import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { Clock, JsonLogger } from '@kura/common';
import { KuraConfig, S3Settings, loadConfig } from '@kura/config';
import { createApi } from '../../apps/api/src/api.factory';
import { createWorker } from '../../apps/worker/src/worker.factory';
import { createDatabase, testInfra, uniqueName } from './infra';

export interface TestApp {
  app: INestApplication;
  /** The in-process worker (startTestApp({ worker: true })): it executes approved disposition batches. */
  worker?: INestApplicationContext;
  http: ReturnType<INestApplication['getHttpServer']>;
  config: KuraConfig;
  databaseUrl: string;
  s3: S3Settings;
  clock: Clock;
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Share a database and bucket with another instance (multi-instance tests). */
  databaseUrl?: string;
  s3?: S3Settings;
  keysDir?: string;
  /**
   * Also run a worker in this process, as `npm start` does (RUN_WORKER_IN_PROCESS), executing
   * approved disposition batches; its scheduled jobs stay off (tests run them by hand).
   */
  worker?: boolean;
}

const running = new WeakMap<object, TestApp>();

/** The test app that serves `http` (helpers that need more than HTTP, e.g. the operator's grant approval). */
export function testAppOf(http: TestApp['http']): TestApp {
  const t = running.get(http as object);
  if (!t) throw new Error('this HTTP server was not started by startTestApp');
  return t;
}

/** The real API on a fresh database and bucket of the shared embedded servers. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const infra = testInfra();
  const databaseUrl = options.databaseUrl ?? (await createDatabase(infra));
  const s3 = options.s3 ?? { ...infra.s3, bucket: uniqueName('kura') };
  const keysDir = options.keysDir ?? (await mkdtemp(path.join(os.tmpdir(), 'kura-keys-')));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    S3_ENDPOINT: `http://${s3.endPoint}:${s3.port}`,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: s3.bucket,
    KEYS_DIR: keysDir,
    VAR_DIR: path.join(keysDir, 'var'),
    BOOTSTRAP_ADMIN_USERNAME: 'admin',
    BOOTSTRAP_ADMIN_PASSWORD: 'Bootstrap-Admin-Pass-1',
    // Every test logs in from 127.0.0.1: rate limits are tested on their own (login-flood e2e).
    LOGIN_RATE_LIMIT_PER_ADDRESS: '1000000',
    LOGIN_RATE_LIMIT_PER_USERNAME: '1000000',
    // A worker started with the app takes an approved batch within 100 ms, well inside approve's wait.
    DISPOSITION_POLL_MS: '100',
    ...options.env,
  });
  const logs: string[] = [];
  const logger = new JsonLogger('info', (line) => logs.push(line));
  const clock = new Clock();
  const app = await createApi(config, { databaseUrl, s3 }, logger, clock);
  const worker = options.worker ? await createWorker(config, { databaseUrl, s3 }, logger, clock, { schedule: false, dispositions: true }) : undefined;
  const close = async () => {
    await worker?.close();
    await app.close();
  };
  const t: TestApp = { app, worker, http: app.getHttpServer(), config, databaseUrl, s3, clock, logs, close };
  running.set(t.http as object, t);
  return t;
}
