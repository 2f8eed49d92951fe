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
});
