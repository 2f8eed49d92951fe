import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@kura/config';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  hostname?: string;
}

const ROOT = path.resolve(__dirname, '..');
const compose = parse(readFileSync(path.join(ROOT, 'docker/compose.scale.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const vars = { POSTGRES_PASSWORD: 'pg-secret', MINIO_ROOT_USER: 'minio-user', MINIO_ROOT_PASSWORD: 'minio-secret' };

/** Interpolates ${VAR:?msg} / ${VAR:-default} the way docker compose does, from `vars`. */
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
        if (vars[name as keyof typeof vars] !== undefined) return vars[name as keyof typeof vars];
        if (op === '-') return arg ?? '';
        throw new Error(`${name} is required: ${arg}`);
      }),
    ]),
  );
}

describe('docker/compose.scale.yml', () => {
  const minios = ['minio1', 'minio2', 'minio3', 'minio4'];

  it('runs 4 MinIO nodes in distributed mode, 2 apis behind a proxy, 2 workers and one PostgreSQL', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['api-1', 'api-2', 'minio-init', ...minios, 'postgres', 'proxy', 's3', 'worker-1', 'worker-2'].sort(),
    );
    for (const name of minios) {
      expect(compose.services[name].image).toMatch(/^minio\/minio/);
      expect(compose.services[name].hostname).toBe(name);
      // Every node is started with the same 4-node pool: one erasure set, not 4 single-node servers.
      expect(compose.services[name].command).toEqual(['server', 'http://minio{1...4}/data', '--console-address', ':9001']);
    }
    const proxy = compose.services.proxy.command!.join(' ');
    expect(proxy).toContain('--to api-1:3000');
    expect(proxy).toContain('--to api-2:3000');
    const s3 = compose.services.s3.command!.join(' ');
    for (const name of minios) expect(s3).toContain(`--to ${name}:9000`);
    for (const name of ['worker-1', 'worker-2']) expect(compose.services[name].command?.join(' ')).toContain('apps/worker/src/main.js');
  });

  it.each(['api-1', 'api-2', 'worker-1', 'worker-2'])('gives %s a production configuration the config loader accepts, wired to the shared servers', (name) => {
    const config = loadConfig(interpolate(compose.services[name].environment ?? {}), ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.runWorkerInProcess).toBe(false);
    expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
    expect(config.s3).toMatchObject({ endPoint: 's3', port: 9000, accessKey: vars.MINIO_ROOT_USER, secretKey: vars.MINIO_ROOT_PASSWORD });
    expect(config.auditChainWindowMs).toBe(1000);
    expect(compose.services[name].depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'minio-init': { condition: 'service_completed_successfully' },
    });
    expect(interpolate(compose.services['minio-init'].environment ?? {}).S3_BUCKET).toBe(config.s3Bucket);
  });

  it('every api and worker shares one database, one bucket and one key volume', () => {
    const apps = ['api-1', 'api-2', 'worker-1', 'worker-2'].map((n) => loadConfig(interpolate(compose.services[n].environment ?? {}), ROOT));
    expect(new Set(apps.map((c) => c.databaseUrl)).size).toBe(1);
    expect(new Set(apps.map((c) => c.s3Bucket)).size).toBe(1);
    expect(new Set(apps.map((c) => c.keysDir)).size).toBe(1);
  });
});
