import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@kura/config';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const ROOT = path.resolve(__dirname, '..');
const compose = parse(readFileSync(path.join(ROOT, 'docker/compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

/** Interpolates ${VAR:?msg} / ${VAR:-default} the way docker compose does, from `vars`. */
function interpolate(env: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
        if (vars[name] !== undefined && vars[name] !== '') return vars[name];
        if (op === '-') return arg ?? '';
        throw new Error(`${name} is required: ${arg}`);
      }),
    ]),
  );
}

describe('docker/compose.yml', () => {
  const vars = { POSTGRES_PASSWORD: 'pg-secret', MINIO_ROOT_USER: 'minio-user', MINIO_ROOT_PASSWORD: 'minio-secret' };

  it('runs api, worker, PostgreSQL, MinIO and a bucket-init step', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'minio', 'minio-init', 'postgres', 'worker']);
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
    expect(compose.services.minio.image).toMatch(/^minio\/minio/);
    expect(compose.services.worker.command?.join(' ')).toContain('apps/worker/src/main.js');
    for (const app of ['api', 'worker']) {
      expect(compose.services[app].depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
      });
    }
  });

  it.each(['api', 'worker'])('gives %s a configuration the service accepts for production, wired to the compose servers', (name) => {
    const env = interpolate(compose.services[name].environment ?? {}, vars);
    const config = loadConfig(env, ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.runWorkerInProcess).toBe(false);
    const db = new URL(config.databaseUrl!);
    expect(db.hostname).toBe('postgres');
    expect(decodeURIComponent(db.password)).toBe(compose.services.postgres.environment?.POSTGRES_PASSWORD ? vars.POSTGRES_PASSWORD : '');
    expect(config.s3).toMatchObject({ endPoint: 'minio', port: 9000, accessKey: vars.MINIO_ROOT_USER, secretKey: vars.MINIO_ROOT_PASSWORD });
    const init = interpolate(compose.services['minio-init'].environment ?? {}, vars);
    expect(init.S3_BUCKET).toBe(config.s3Bucket);
  });

  it('refuses to render without the secrets it needs', () => {
    expect(() => interpolate(compose.services.api.environment ?? {}, {})).toThrow(/POSTGRES_PASSWORD is required/);
  });
});
