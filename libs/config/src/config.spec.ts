import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from './config';

describe(loadConfig.name, () => {
  it('defaults to embedded services under ./var', () => {
    const c = loadConfig({}, '/srv/kura');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.s3).toBeUndefined();
    expect(c.varDir).toBe('/srv/kura/var');
    expect(c.keysDir).toBe('/srv/kura/var/keys');
    expect(c.port).toBe(3000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.runWorkerInProcess).toBe(true);
    expect(c.auditExportPdfMaxEvents).toBe(1_000);
    expect(loadConfig({ AUDIT_EXPORT_PDF_MAX_EVENTS: '250' }).auditExportPdfMaxEvents).toBe(250);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['S3_ENDPOINT', 'ftp://minio'],
    ['S3_BUCKET', 'Bad_Bucket'],
    ['ACCESS_TOKEN_TTL_SECONDS', '5'],
    ['RUN_WORKER_IN_PROCESS', 'maybe'],
    ['AUDIT_EXPORT_PDF_MAX_EVENTS', '0'],
    ['AUDIT_EXPORT_PDF_MAX_EVENTS', '100001'],
    ['AUDIT_EXPORT_PDF_MAX_EVENTS', 'lots'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as ConfigError).message.startsWith(`${name}:`)).toBe(true);
  });

  it('requires S3 credentials with an endpoint and never echoes secrets', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'http://minio:9000' })).toThrow(/S3_ACCESS_KEY/);
    const c = loadConfig({ S3_ENDPOINT: 'https://minio.example:9443', S3_ACCESS_KEY: 'ak', S3_SECRET_KEY: 'sk' });
    expect(c.s3).toMatchObject({ endPoint: 'minio.example', port: 9443, useSSL: true });
    try {
      loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it('requires external servers in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/kura' })).toThrow(/S3_ENDPOINT/);
  });

  it('reads secrets from <NAME>_FILE (Docker secrets), without echoing them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kura-secrets-'));
    const file = (name: string, value: string) => {
      writeFileSync(path.join(dir, name), value);
      return path.join(dir, name);
    };
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL_FILE: file('database_url', 'postgres://kura_app:s3cr3t-pw@db:5432/kura\n'),
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_FILE: file('s3_access_key', 'kura-app\n'),
      S3_SECRET_KEY_FILE: file('s3_secret_key', 'minio-app-secret'),
      METRICS_TOKEN_FILE: file('metrics_token', 'metrics-token-0123456789\n'),
    };
    const config = loadConfig(env);
    expect(config.databaseUrl).toBe('postgres://kura_app:s3cr3t-pw@db:5432/kura');
    expect(config.s3).toMatchObject({ accessKey: 'kura-app', secretKey: 'minio-app-secret' });
    expect(config.metricsToken).toBe('metrics-token-0123456789');
    expect(() => loadConfig({ ...env, S3_SECRET_KEY: 'also-here' })).toThrow(new ConfigError('S3_SECRET_KEY_FILE', 'and S3_SECRET_KEY are both set: use one'));
    expect(() => loadConfig({ ...env, S3_SECRET_KEY_FILE: path.join(dir, 'missing') })).toThrow(/^S3_SECRET_KEY_FILE: cannot read .*missing \(ENOENT\)$/);
    expect(() => loadConfig({ ...env, METRICS_TOKEN_FILE: file('empty', '\n') })).toThrow(/METRICS_TOKEN_FILE: .*empty is empty/);
    try {
      loadConfig({ ...env, DATABASE_URL_FILE: file('bad_url', 'mysql://root:hunter2@x/y') });
    } catch (err) {
      expect((err as Error).message).toBe('DATABASE_URL: must be a postgres:// URL');
    }
  });
});
