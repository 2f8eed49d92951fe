import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A configuration problem: names the variable, never echoes a secret value. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface S3Settings {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/** Validated, immutable configuration. Loaded once at start-up. */
export class KuraConfig {
  readonly nodeEnv!: 'development' | 'production' | 'test';
  readonly host!: string;
  readonly port!: number;
  readonly logLevel!: LogLevel;
  /** Unset: readable lines in development on a terminal, JSON lines otherwise. */
  readonly logFormat?: 'json' | 'pretty';
  readonly varDir!: string;
  readonly keysDir!: string;
  /** Absent: an embedded PostgreSQL is started under varDir/postgres. */
  readonly databaseUrl?: string;
  /** The schema owner's URL: migrations run with it, then DATABASE_URL's role gets runtime grants only. */
  readonly migrationDatabaseUrl?: string;
  /** Absent: an embedded s3rver is started under varDir/objects. */
  readonly s3?: S3Settings;
  readonly s3Bucket!: string;
  readonly s3Region!: string;
  readonly runWorkerInProcess!: boolean;
  readonly accessTokenTtlSeconds!: number;
  readonly sessionIdleTimeoutSeconds!: number;
  readonly lockoutThreshold!: number;
  readonly lockoutMinutes!: number;
  /** Login attempts allowed per client address and per username in each window (429 beyond). */
  readonly loginRateLimitPerAddress!: number;
  readonly loginRateLimitPerUsername!: number;
  readonly loginRateWindowSeconds!: number;
  /** How often counted rejections (bogus tokens, locked-out and throttled logins) are audited as one summary. */
  readonly authRejectionAuditSeconds!: number;
  /** Express `trust proxy`: the proxies (addresses, CIDRs or loopback/linklocal/uniquelocal) whose X-Forwarded-For is believed. */
  readonly trustProxy!: string[];
  readonly bootstrapAdminUsername!: string;
  readonly bootstrapAdminPassword?: string;
  /** How long a privilege grant waits for a second administrator before it expires. */
  readonly privilegeGrantTtlHours!: number;
  readonly maxUploadBytes!: number;
  /** Classified PDFs are stamped in memory: larger ones are refused rather than sent unlabelled. */
  readonly pdfStampMaxBytes!: number;
  /** Worker threads that label PDFs at once, and how many downloads may wait for one. */
  readonly pdfStampConcurrency!: number;
  readonly pdfStampQueue!: number;
  /** Limits on one labelling: wall time, worker heap, and bytes its streams may decode to. */
  readonly pdfStampTimeoutMs!: number;
  readonly pdfStampHeapMb!: number;
  readonly pdfStampMaxDecodedBytes!: number;
  readonly auditCheckpointIntervalSeconds!: number;
  /** Committed audit events must be chained within this; verification fails on older unchained ones. */
  readonly auditChainWindowMs!: number;
  /** The PDF audit report is built in memory: a filter matching more events is refused (413). */
  readonly auditExportPdfMaxEvents!: number;
  readonly retentionSweepIntervalSeconds!: number;
  readonly fixityIntervalSeconds!: number;
  readonly fixitySampleSize!: number;
  /** Named on deletion certificates (NIST SP 800-88 "Organization"). */
  readonly organisationName!: string;
  readonly shutdownTimeoutMs!: number;
  /** The built web console (`npm run build` writes it to dist/web), served at `/`. */
  readonly webDir!: string;
  /** An upload intent (and an unclaimed object) younger than this is left alone by the reconciler. */
  readonly reconcileGraceSeconds!: number;
  readonly reconcileIntervalSeconds!: number;
  /** Object store: TCP connect, socket idle (no byte either way: a frozen store, a stalled part), whole metadata call. */
  readonly s3ConnectTimeoutMs!: number;
  readonly s3IdleTimeoutMs!: number;
  readonly s3RequestTimeoutMs!: number;
  /** PostgreSQL: server-side statement timeout, and the wait for a pooled connection. */
  readonly databaseStatementTimeoutMs!: number;
  readonly databasePoolTimeoutMs!: number;
  /** An upload body that sends nothing for this long is answered 408 and dropped. */
  readonly uploadIdleTimeoutMs!: number;
  /** Bearer token for GET /metrics on the api port; unset: /metrics is not served there. */
  readonly metricsToken?: string;
  /** The worker's own /metrics listener (it serves no API); needs METRICS_TOKEN. */
  readonly workerMetricsPort?: number;
  /** Touched by the worker on every poll: its container healthcheck reads the file's age. */
  readonly workerHeartbeatFile?: string;
  /** How often a worker looks for due jobs. */
  readonly jobPollSeconds!: number;
  /** A failed job retries after this × 2^(attempt-1) seconds (at most its interval). */
  readonly jobRetryBaseSeconds!: number;
  /** How long `POST /disposition/batches/:id/approve` waits for the worker before answering 202 (0: never waits). */
  readonly dispositionApproveWaitMs!: number;
  /** How often a worker looks for approved disposition batches to execute. */
  readonly dispositionPollMs!: number;
  /** A worker executing a batch renews its lease every third of this; a crashed worker's batch is taken over after it. */
  readonly dispositionLeaseSeconds!: number;
  /** Tests only (NODE_ENV=test): the executor writes `signalFile` and stops for good after destroying `after` records. */
  readonly faultDispositionPause?: { after: number; signalFile: string };
  /** How long start-up waits for a configured PostgreSQL or S3 server to answer. */
  readonly connectTimeoutSeconds!: number;

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    if (fallback === undefined) throw new ConfigError(name, 'is required');
    return fallback;
  }
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Free text shown to people (certificates): trimmed, bounded, no control characters. */
function text(env: Env, name: string, fallback: string, maxLength: number): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw.length > maxLength || /[\u0000-\u001f\u007f]/.test(raw)) {
    throw new ConfigError(name, `must be at most ${maxLength} characters without control characters`);
  }
  return raw;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(name, 'must be true or false');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function databaseUrl(env: Env, name = 'DATABASE_URL'): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, 'must be a postgres:// URL');
  }
  return raw;
}

/** TRUST_PROXY: comma-separated addresses, CIDRs or Express's names (loopback, linklocal, uniquelocal). */
function trustProxy(env: Env): string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw) return [];
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  const ok = (e: string) => ['loopback', 'linklocal', 'uniquelocal'].includes(e) || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e);
  if (!entries.every(ok)) throw new ConfigError('TRUST_PROXY', 'must list proxy addresses, CIDRs, or loopback/linklocal/uniquelocal, separated by commas');
  return entries;
}

function s3(env: Env, bucket: string, region: string): S3Settings | undefined {
  const raw = env.S3_ENDPOINT;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('S3_ENDPOINT', 'must be an http(s):// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('S3_ENDPOINT', 'must be an http(s):// URL');
  }
  const useSSL = url.protocol === 'https:';
  return {
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: str(env, 'S3_ACCESS_KEY'),
    secretKey: str(env, 'S3_SECRET_KEY'),
    bucket,
    region,
  };
}

/** An optional shared secret: long enough not to be guessed. */
function secretToken(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || /\s/.test(raw)) throw new ConfigError(name, 'must be at least 16 characters without spaces');
  return raw;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Secrets that may come from a file (`<NAME>_FILE`, e.g. a Docker or Kubernetes secret) instead of the environment. */
export const FILE_SECRETS = ['DATABASE_URL', 'MIGRATION_DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'BOOTSTRAP_ADMIN_PASSWORD', 'METRICS_TOKEN'] as const;

function withFileSecrets(env: Env, cwd: string): Env {
  const resolved: Env = { ...env };
  for (const name of FILE_SECRETS) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') throw new ConfigError(`${name}_FILE`, `and ${name} are both set: use one`);
    let value: string;
    try {
      value = readFileSync(path.resolve(cwd, file), 'utf8');
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // A file written by `echo` ends with a newline that is not part of the secret.
    value = value.replace(/\r?\n$/, '');
    if (value === '') throw new ConfigError(`${name}_FILE`, `${file} is empty`);
    resolved[name] = value;
  }
  return resolved;
}

export function loadConfig(rawEnv: Env = process.env, cwd = process.cwd()): KuraConfig {
  const env = withFileSecrets(rawEnv, cwd);
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const varDir = path.resolve(cwd, str(env, 'VAR_DIR', './var'));
  const bucket = str(env, 'S3_BUCKET', 'kura');
  if (!BUCKET_NAME.test(bucket)) throw new ConfigError('S3_BUCKET', 'must be a valid S3 bucket name');
  const region = str(env, 'S3_REGION', 'us-east-1');
  const databaseUrlValue = databaseUrl(env);
  const migrationDatabaseUrl = databaseUrl(env, 'MIGRATION_DATABASE_URL');
  if (migrationDatabaseUrl && !databaseUrlValue) throw new ConfigError('MIGRATION_DATABASE_URL', 'needs DATABASE_URL (the runtime role) too');
  const s3Value = s3(env, bucket, region);
  const isProduction = nodeEnv === 'production';
  if (env.WORKER_METRICS_PORT && !env.METRICS_TOKEN) throw new ConfigError('WORKER_METRICS_PORT', 'needs METRICS_TOKEN (metrics are never served without it)');
  if (isProduction && !databaseUrlValue) throw new ConfigError('DATABASE_URL', 'is required when NODE_ENV=production');
  if (isProduction && !s3Value) throw new ConfigError('S3_ENDPOINT', 'is required when NODE_ENV=production');

  const config: Omit<KuraConfig, 'isProduction'> = {
    nodeEnv,
    host: str(env, 'HOST', isProduction ? '0.0.0.0' : '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    logFormat: env.LOG_FORMAT ? oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json') : undefined,
    varDir,
    keysDir: path.resolve(cwd, str(env, 'KEYS_DIR', path.join(varDir, 'keys'))),
    databaseUrl: databaseUrlValue,
    migrationDatabaseUrl,
    s3: s3Value,
    s3Bucket: bucket,
    s3Region: region,
    runWorkerInProcess: bool(env, 'RUN_WORKER_IN_PROCESS', !isProduction),
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    sessionIdleTimeoutSeconds: int(env, 'SESSION_IDLE_TIMEOUT_SECONDS', 600, 30, 86_400),
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutMinutes: int(env, 'LOCKOUT_MINUTES', 15, 1, 1440),
    loginRateLimitPerAddress: int(env, 'LOGIN_RATE_LIMIT_PER_ADDRESS', 10, 1, 1_000_000),
    loginRateLimitPerUsername: int(env, 'LOGIN_RATE_LIMIT_PER_USERNAME', 30, 1, 1_000_000),
    loginRateWindowSeconds: int(env, 'LOGIN_RATE_WINDOW_SECONDS', 60, 1, 86_400),
    authRejectionAuditSeconds: int(env, 'AUTH_REJECTION_AUDIT_SECONDS', 60, 1, 86_400),
    trustProxy: trustProxy(env),
    bootstrapAdminUsername: str(env, 'BOOTSTRAP_ADMIN_USERNAME', 'admin'),
    bootstrapAdminPassword: env.BOOTSTRAP_ADMIN_PASSWORD || undefined,
    privilegeGrantTtlHours: int(env, 'PRIVILEGE_GRANT_TTL_HOURS', 72, 1, 720),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, 5 * 1024 ** 4),
    pdfStampMaxBytes: int(env, 'PDF_STAMP_MAX_BYTES', 128 * 1024 ** 2, 1024, 2 * 1024 ** 3),
    pdfStampConcurrency: int(env, 'PDF_STAMP_CONCURRENCY', 2, 1, 64),
    pdfStampQueue: int(env, 'PDF_STAMP_QUEUE', 32, 0, 10_000),
    pdfStampTimeoutMs: int(env, 'PDF_STAMP_TIMEOUT_MS', 20_000, 100, 600_000),
    pdfStampHeapMb: int(env, 'PDF_STAMP_HEAP_MB', 512, 64, 16_384),
    pdfStampMaxDecodedBytes: int(env, 'PDF_STAMP_MAX_DECODED_BYTES', 256 * 1024 ** 2, 1024 ** 2, 8 * 1024 ** 3),
    auditCheckpointIntervalSeconds: int(env, 'AUDIT_CHECKPOINT_INTERVAL_SECONDS', 300, 1, 86_400),
    auditChainWindowMs: int(env, 'AUDIT_CHAIN_WINDOW_MS', 1_000, 100, 60_000),
    auditExportPdfMaxEvents: int(env, 'AUDIT_EXPORT_PDF_MAX_EVENTS', 1_000, 1, 100_000),
    retentionSweepIntervalSeconds: int(env, 'RETENTION_SWEEP_INTERVAL_SECONDS', 86_400, 1, 31 * 86_400),
    fixityIntervalSeconds: int(env, 'FIXITY_INTERVAL_SECONDS', 86_400, 1, 31 * 86_400),
    fixitySampleSize: int(env, 'FIXITY_SAMPLE_SIZE', 100, 0, 1_000_000),
    organisationName: text(env, 'ORGANISATION_NAME', 'Kura', 200),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    webDir: path.resolve(cwd, str(env, 'WEB_DIR', './dist/web')),
    reconcileGraceSeconds: int(env, 'RECONCILE_GRACE_SECONDS', 6 * 3600, 0, 31 * 86_400),
    reconcileIntervalSeconds: int(env, 'RECONCILE_INTERVAL_SECONDS', 3600, 1, 31 * 86_400),
    s3ConnectTimeoutMs: int(env, 'S3_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
    s3IdleTimeoutMs: int(env, 'S3_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
    s3RequestTimeoutMs: int(env, 'S3_REQUEST_TIMEOUT_MS', 60_000, 100, 600_000),
    databaseStatementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 60_000, 100, 3_600_000),
    databasePoolTimeoutMs: int(env, 'DATABASE_POOL_TIMEOUT_MS', 5_000, 100, 600_000),
    uploadIdleTimeoutMs: int(env, 'UPLOAD_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
    connectTimeoutSeconds: int(env, 'CONNECT_TIMEOUT_SECONDS', 10, 1, 300),
    metricsToken: secretToken(env, 'METRICS_TOKEN'),
    workerMetricsPort: env.WORKER_METRICS_PORT ? int(env, 'WORKER_METRICS_PORT', 0, 0, 65535) : undefined,
    workerHeartbeatFile: env.WORKER_HEARTBEAT_FILE ? path.resolve(cwd, env.WORKER_HEARTBEAT_FILE) : undefined,
    jobPollSeconds: int(env, 'JOB_POLL_SECONDS', 5, 1, 3600),
    jobRetryBaseSeconds: int(env, 'JOB_RETRY_BASE_SECONDS', 30, 1, 86_400),
    dispositionApproveWaitMs: int(env, 'DISPOSITION_APPROVE_WAIT_MS', 10_000, 0, 60_000),
    dispositionPollMs: int(env, 'DISPOSITION_POLL_MS', 1_000, 50, 60_000),
    dispositionLeaseSeconds: int(env, 'DISPOSITION_LEASE_SECONDS', 30, 2, 3_600),
    // A fault-injection hook for the multi-process fault test; ignored outside NODE_ENV=test.
    faultDispositionPause:
      nodeEnv === 'test' && env.KURA_FAULT_DISPOSITION_PAUSE_AFTER && env.KURA_FAULT_DISPOSITION_PAUSE_FILE
        ? { after: int(env, 'KURA_FAULT_DISPOSITION_PAUSE_AFTER', 0, 0, 1_000_000), signalFile: path.resolve(cwd, env.KURA_FAULT_DISPOSITION_PAUSE_FILE) }
        : undefined,
  };
  return Object.freeze(Object.assign(new KuraConfig(), config));
}
