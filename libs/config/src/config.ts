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
  readonly varDir!: string;
  readonly keysDir!: string;
  /** Absent: an embedded PostgreSQL is started under varDir/postgres. */
  readonly databaseUrl?: string;
  /** Absent: an embedded s3rver is started under varDir/objects. */
  readonly s3?: S3Settings;
  readonly s3Bucket!: string;
  readonly s3Region!: string;
  readonly runWorkerInProcess!: boolean;
  readonly accessTokenTtlSeconds!: number;
  readonly sessionIdleTimeoutSeconds!: number;
  readonly lockoutThreshold!: number;
  readonly lockoutMinutes!: number;
  readonly bootstrapAdminUsername!: string;
  readonly bootstrapAdminPassword?: string;
  /** How long a privilege grant waits for a second administrator before it expires. */
  readonly privilegeGrantTtlHours!: number;
  readonly maxUploadBytes!: number;
  /** Classified PDFs are stamped in memory: larger ones are refused rather than sent unlabelled. */
  readonly pdfStampMaxBytes!: number;
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

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL');
  }
  return raw;
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

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): KuraConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const varDir = path.resolve(cwd, str(env, 'VAR_DIR', './var'));
  const bucket = str(env, 'S3_BUCKET', 'kura');
  if (!BUCKET_NAME.test(bucket)) throw new ConfigError('S3_BUCKET', 'must be a valid S3 bucket name');
  const region = str(env, 'S3_REGION', 'us-east-1');
  const databaseUrlValue = databaseUrl(env);
  const s3Value = s3(env, bucket, region);
  const isProduction = nodeEnv === 'production';
  if (isProduction && !databaseUrlValue) throw new ConfigError('DATABASE_URL', 'is required when NODE_ENV=production');
  if (isProduction && !s3Value) throw new ConfigError('S3_ENDPOINT', 'is required when NODE_ENV=production');

  const config: Omit<KuraConfig, 'isProduction'> = {
    nodeEnv,
    host: str(env, 'HOST', isProduction ? '0.0.0.0' : '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    varDir,
    keysDir: path.resolve(cwd, str(env, 'KEYS_DIR', path.join(varDir, 'keys'))),
    databaseUrl: databaseUrlValue,
    s3: s3Value,
    s3Bucket: bucket,
    s3Region: region,
    runWorkerInProcess: bool(env, 'RUN_WORKER_IN_PROCESS', !isProduction),
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    sessionIdleTimeoutSeconds: int(env, 'SESSION_IDLE_TIMEOUT_SECONDS', 600, 30, 86_400),
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 5, 1, 100),
    lockoutMinutes: int(env, 'LOCKOUT_MINUTES', 15, 1, 1440),
    bootstrapAdminUsername: str(env, 'BOOTSTRAP_ADMIN_USERNAME', 'admin'),
    bootstrapAdminPassword: env.BOOTSTRAP_ADMIN_PASSWORD || undefined,
    privilegeGrantTtlHours: int(env, 'PRIVILEGE_GRANT_TTL_HOURS', 72, 1, 720),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, 5 * 1024 ** 4),
    pdfStampMaxBytes: int(env, 'PDF_STAMP_MAX_BYTES', 128 * 1024 ** 2, 1024, 2 * 1024 ** 3),
    auditCheckpointIntervalSeconds: int(env, 'AUDIT_CHECKPOINT_INTERVAL_SECONDS', 300, 1, 86_400),
    auditChainWindowMs: int(env, 'AUDIT_CHAIN_WINDOW_MS', 1_000, 100, 60_000),
    auditExportPdfMaxEvents: int(env, 'AUDIT_EXPORT_PDF_MAX_EVENTS', 1_000, 1, 100_000),
    retentionSweepIntervalSeconds: int(env, 'RETENTION_SWEEP_INTERVAL_SECONDS', 86_400, 1, 31 * 86_400),
    fixityIntervalSeconds: int(env, 'FIXITY_INTERVAL_SECONDS', 86_400, 1, 31 * 86_400),
    fixitySampleSize: int(env, 'FIXITY_SAMPLE_SIZE', 100, 0, 1_000_000),
    organisationName: text(env, 'ORGANISATION_NAME', 'Kura', 200),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  };
  return Object.freeze(Object.assign(new KuraConfig(), config));
}
