import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@kura/config';
import { composeSecrets, interpolate } from './support/compose';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const ROOT = path.resolve(__dirname, '..');
const compose = parse(readFileSync(path.join(ROOT, 'docker/compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};

/** The secret files docker/make-secrets.sh writes, in a temp dir, and /run/secrets/<name> mapped there. */
const SECRETS: Record<string, string> = {
  postgres_password: 'pg-superuser-secret',
  kura_app_db_password: 'app-db-secret',
  kura_migrator_db_password: 'migrator-db-secret',
  database_url: 'postgres://kura_app:app-db-secret@postgres:5432/kura',
  migration_database_url: 'postgres://kura_migrator:migrator-db-secret@postgres:5432/kura',
  minio_root_user: 'root-abc',
  minio_root_password: 'minio-root-secret',
  s3_access_key: 'kura-app',
  s3_secret_key: 'minio-app-secret',
  bootstrap_admin_password: 'Bootstrap-Secret-1',
  metrics_token: 'metrics-token-0123456789',
};
const { map: mapSecrets } = composeSecrets(SECRETS);

describe('docker/compose.yml', () => {
  const vars = { BOOTSTRAP_ADMIN_USERNAME: 'records-admin' };

  it('runs api, worker, PostgreSQL, MinIO, and one-shot steps for keys, migrations and the bucket', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'keys-init', 'migrate', 'minio', 'minio-init', 'minio2', 'minio3', 'minio4', 'postgres', 'worker']);
    expect(compose.services.worker.command?.join(' ')).toContain('apps/worker/src/main.js');
    expect(compose.services['keys-init'].command?.join(' ')).toMatch(/cli\/src\/main\.js keys init --dir \/run\/kura\/keys --if-missing$/);
    expect(compose.services['keys-init'].volumes).toEqual(['kura-keys:/run/kura/keys']);
    expect(compose.services.migrate.command?.join(' ')).toMatch(/cli\/src\/main\.js migrate$/);
    for (const app of ['api', 'worker']) {
      expect(compose.services[app].depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
        'keys-init': { condition: 'service_completed_successfully' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(compose.services[app].volumes).toEqual(['kura-keys:/run/kura/keys:ro']);
    }
  });

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const image = interpolate({ image: s.image ?? '' }, vars).image;
      expect([name, image]).toEqual([name, expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/)]);
    }
    const dockerfile = readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8');
    const bases = (dockerfile.match(/^FROM \S+/gm) ?? []).filter((f) => f.includes(":"));
    expect(bases.length).toBeGreaterThan(0);
    for (const from of bases) expect(from).toMatch(/^FROM node:\d+\.\d+\.\d+-/);
  });

  it('gives the worker a healthcheck of its own (no HTTP), backed by the heartbeat the worker writes', () => {
    const worker = compose.services.worker;
    expect(worker.healthcheck?.test.join(' ')).not.toMatch(/health\/|fetch\(/);
    expect(worker.healthcheck?.test.join(' ')).toContain(worker.environment?.WORKER_HEARTBEAT_FILE);
    expect(compose.services.api.healthcheck?.test.join(' ')).toContain('/api/v1/health/ready');
    expect(readFileSync(path.join(ROOT, 'docker/Dockerfile'), 'utf8')).not.toMatch(/^HEALTHCHECK/m);
  });

  it.each(['api', 'worker'])('gives %s a production configuration from secret files: a non-superuser role and a bucket-scoped S3 user', (name) => {
    const service = compose.services[name];
    const env = interpolate(service.environment ?? {}, vars);
    // No secret in the environment itself: only paths to files.
    for (const key of ['DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'BOOTSTRAP_ADMIN_PASSWORD', 'METRICS_TOKEN']) {
      expect(env[key]).toBeUndefined();
      expect(env[`${key}_FILE`]).toMatch(/^\/run\/secrets\//);
      expect(service.secrets).toContain(path.basename(env[`${key}_FILE`]));
    }
    const config = loadConfig(mapSecrets(env), ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.runWorkerInProcess).toBe(false);
    expect(config.bootstrapAdminUsername).toBe('records-admin');
    expect(config.metricsToken).toBe(SECRETS.metrics_token);
    if (name === 'worker') expect(config.workerMetricsPort).toBe(9464);
    const db = new URL(config.databaseUrl!);
    expect([db.hostname, db.username]).toEqual(['postgres', 'kura_app']);
    expect(config.s3).toMatchObject({ endPoint: 'minio', port: 9000, accessKey: SECRETS.s3_access_key, secretKey: SECRETS.s3_secret_key });
    expect(config.s3!.accessKey).not.toBe(SECRETS.minio_root_user);
    expect(interpolate(compose.services['minio-init'].environment ?? {}, vars).S3_BUCKET).toBe(config.s3Bucket);
  });

  it('migrates as the schema owner, a role separate from the runtime one', () => {
    const env = mapSecrets(interpolate(compose.services.migrate.environment ?? {}, vars));
    const config = loadConfig(env, ROOT);
    expect(new URL(config.databaseUrl!).username).toBe('kura_migrator');
  });

  it('creates the runtime role without superuser, ownership or audit-table rights', () => {
    const script = readFileSync(path.join(ROOT, 'docker/postgres/10-kura-roles.sh'), 'utf8');
    expect(script).toMatch(/CREATE ROLE kura_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE/);
    expect(script).toMatch(/ALTER SCHEMA public OWNER TO kura_migrator/);
    expect(script).toMatch(/REVOKE CREATE ON SCHEMA public FROM PUBLIC/);
    expect(compose.services.postgres.volumes).toContain('./postgres/10-kura-roles.sh:/docker-entrypoint-initdb.d/10-kura-roles.sh:ro');
    expect(compose.services.postgres.environment).not.toHaveProperty('POSTGRES_USER');
    expect(compose.services.postgres.environment?.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
  });

  it('gives the app a MinIO user whose policy names only the bucket', () => {
    const policy = JSON.parse(readFileSync(path.join(ROOT, 'docker/minio/kura-bucket-policy.json'), 'utf8')) as { Statement: Array<{ Action: string[]; Resource: string[] }> };
    const resources = policy.Statement.flatMap((s) => s.Resource);
    expect(resources.sort()).toEqual(['arn:aws:s3:::KURA_BUCKET', 'arn:aws:s3:::KURA_BUCKET/*']);
    expect(policy.Statement.flatMap((s) => s.Action).some((a) => a.startsWith('admin:') || a === 's3:*')).toBe(false);
    const init = compose.services['minio-init'].entrypoint!.join(' ');
    expect(init).toMatch(/mc admin user add root "\$\$\(cat \/run\/secrets\/s3_access_key\)"/);
    expect(init).toMatch(/mc admin policy attach root kura-bucket --user/);
  });

  it('shows MinIO distributed mode as a profile of four nodes', () => {
    const nodes = Object.entries(compose.services).filter(([n]) => /^minio\d?$/.test(n));
    expect(nodes).toHaveLength(4);
    for (const [n, s] of nodes) {
      expect([n, s.command]).toEqual([n, ['server', '${MINIO_VOLUMES:-/data}', '--console-address', ':9001']]);
      if (n !== 'minio') expect(s.profiles).toEqual(['distributed']);
    }
  });

  it('keeps secrets, local data and dependencies out of the build context', () => {
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'var', '.git', 'dist', 'docker/secrets', '.env']) expect(ignore).toContain(entry);
    for (const file of Object.values(compose.secrets)) expect(file.file).toMatch(/^\.\/secrets\//);
    expect(readFileSync(path.join(ROOT, '.gitignore'), 'utf8')).toMatch(/^docker\/secrets\/$/m);
  });

  it('refuses to render without an administrator name (no default)', () => {
    expect(() => interpolate(compose.services.api.environment ?? {}, {})).toThrow(/BOOTSTRAP_ADMIN_USERNAME is required/);
  });
});
