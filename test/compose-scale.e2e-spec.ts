import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, type ScalarTag, type CollectionTag } from 'yaml';
import { loadConfig } from '@kura/config';
import { composeSecrets, interpolate } from './support/compose';

/**
 * docker/compose.scale.yml is an override of docker/compose.yml:
 *   docker compose -f docker/compose.yml -f docker/compose.scale.yml --profile distributed up
 * No Docker engine here: both files are parsed and merged the way compose merges them, and the
 * merged model is checked against the configuration loader.
 */

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  profiles?: string[];
  hostname?: string;
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
}

const ROOT = path.resolve(__dirname, '..');
/** `!reset` (Compose 2.24+): the key is removed from the merged model, whatever the base file says. */
const RESET = Symbol('reset');
const resetTags: Array<ScalarTag | CollectionTag> = [
  { tag: '!reset', collection: 'seq', resolve: () => RESET } as unknown as CollectionTag,
  { tag: '!reset', collection: 'map', resolve: () => RESET } as unknown as CollectionTag,
  { tag: '!reset', resolve: () => RESET } as unknown as ScalarTag,
];
const read = (file: string) => parse(readFileSync(path.join(ROOT, 'docker', file), 'utf8'), { merge: true, customTags: resetTags }) as Compose;

/** Sequences compose merges as sets (by value) instead of replacing them; everything else: override wins. */
const MERGED_SEQUENCES = new Set(['ports', 'expose', 'volumes', 'secrets', 'configs', 'dns', 'extra_hosts', 'env_file']);
type Yaml = unknown;
function merge(base: Yaml, override: Yaml, key = ''): Yaml {
  if (override === RESET) return undefined;
  if (Array.isArray(base) && Array.isArray(override)) return MERGED_SEQUENCES.has(key) ? [...new Set([...base, ...override])] : override;
  const isMap = (v: Yaml): v is Record<string, Yaml> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isMap(base) && isMap(override)) {
    const out: Record<string, Yaml> = { ...base };
    for (const [k, v] of Object.entries(override)) {
      const m = merge(base[k], v, k);
      if (m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  return override === undefined ? base : override;
}

const base = read('compose.yml');
const override = read('compose.scale.yml');
const merged = merge(base, override) as Compose;
/** The services `--profile distributed` starts. */
const active = Object.fromEntries(Object.entries(merged.services).filter(([, s]) => !s.profiles || s.profiles.includes('distributed')));

const SECRETS: Record<string, string> = {
  database_url: 'postgres://kura_app:app-db-secret@postgres:5432/kura',
  s3_access_key: 'kura-app',
  s3_secret_key: 'minio-app-secret',
  bootstrap_admin_password: 'Bootstrap-Secret-1',
  metrics_token: 'metrics-token-0123456789',
};
const { map: mapSecrets } = composeSecrets(SECRETS);
const vars = { BOOTSTRAP_ADMIN_USERNAME: 'records-admin' };
const configOf = (name: string) => loadConfig(mapSecrets(interpolate(active[name].environment ?? {}, vars)), ROOT);

describe('docker/compose.scale.yml over docker/compose.yml', () => {
  it('adds only what scale-out needs: no secrets, volumes or one-shot steps of its own', () => {
    expect(Object.keys(override.services).sort()).toEqual(['api', 'minio', 'minio2', 'minio3', 'minio4', 'proxy', 's3', 'worker']);
    expect(override.secrets).toBeUndefined();
    const text = readFileSync(path.join(ROOT, 'docker/compose.scale.yml'), 'utf8');
    expect(text).not.toMatch(/PASSWORD|SECRET_KEY|ACCESS_KEY|DATABASE_URL/);
    for (const [name, s] of Object.entries(override.services)) expect([name, s.environment ?? {}]).toEqual([name, expect.not.objectContaining({ DATABASE_URL: expect.anything() })]);
  });

  it('runs 2 apis behind a proxy, 2 workers, 4 MinIO nodes behind an S3 proxy and one PostgreSQL', () => {
    expect(Object.keys(active).sort()).toEqual(['api', 'keys-init', 'migrate', 'minio', 'minio-init', 'minio2', 'minio3', 'minio4', 'postgres', 'proxy', 's3', 'worker']);
    expect(active.api.deploy?.replicas).toBe(2);
    expect(active.worker.deploy?.replicas).toBe(2);
    // Two replicas cannot both publish port 3000: the proxy is the only entry point.
    expect(active.api.ports).toBeUndefined();
    expect(active.proxy.ports).toEqual(['3000:3000']);
    const apiProxy = readFileSync(path.join(ROOT, 'docker/caddy/api.Caddyfile'), 'utf8');
    expect(active.proxy.volumes).toEqual(['./caddy/api.Caddyfile:/etc/caddy/Caddyfile:ro']);
    expect(apiProxy).toMatch(/dynamic a \{\s*name api\s*port 3000/);
    expect(apiProxy).toMatch(/lb_policy round_robin/);
    const s3Proxy = readFileSync(path.join(ROOT, 'docker/caddy/s3.Caddyfile'), 'utf8');
    expect(active.s3.volumes).toEqual(['./caddy/s3.Caddyfile:/etc/caddy/Caddyfile:ro']);
    expect(s3Proxy).toMatch(/reverse_proxy minio1:9000 minio2:9000 minio3:9000 minio4:9000/);
    expect(s3Proxy).not.toMatch(/header_up\s+Host/i);
  });

  it('starts every MinIO node with the same 4-node pool (one erasure set), each under its own host name', () => {
    const nodes = ['minio', 'minio2', 'minio3', 'minio4'];
    for (const n of nodes) expect([n, active[n].command]).toEqual([n, ['server', 'http://minio{1...4}:9000/data', '--console-address', ':9001']]);
    expect(nodes.map((n) => active[n].hostname)).toEqual(['minio1', 'minio2', 'minio3', 'minio4']);
    // Each node keeps its own data volume and the root credentials from secret files (compose.yml).
    expect(new Set(nodes.map((n) => active[n].volumes?.[0]?.split(':')[0])).size).toBe(4);
    for (const n of nodes) expect(active[n].secrets).toEqual(['minio_root_user', 'minio_root_password']);
  });

  it.each(['api', 'worker'])('gives %s a production configuration from secret files, wired to the S3 proxy and the shared database', (name) => {
    const env = interpolate(active[name].environment ?? {}, vars);
    for (const key of ['DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'BOOTSTRAP_ADMIN_PASSWORD', 'METRICS_TOKEN']) {
      expect(env[key]).toBeUndefined();
      expect(active[name].secrets).toContain(path.basename(env[`${key}_FILE`]));
    }
    const config = configOf(name);
    expect(config.isProduction).toBe(true);
    expect(config.runWorkerInProcess).toBe(false);
    expect(new URL(config.databaseUrl!).hostname).toBe('postgres');
    expect(config.s3).toMatchObject({ endPoint: 's3', port: 9000, accessKey: SECRETS.s3_access_key, secretKey: SECRETS.s3_secret_key });
    expect(active[name].depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      'minio-init': { condition: 'service_completed_successfully' },
      'keys-init': { condition: 'service_completed_successfully' },
      migrate: { condition: 'service_completed_successfully' },
      s3: { condition: 'service_started' },
    });
    expect(active[name].volumes).toEqual(['kura-keys:/run/kura/keys:ro']);
  });

  it('every api and worker shares one database, one bucket and one key volume', () => {
    const apps = ['api', 'worker'].map(configOf);
    expect(new Set(apps.map((c) => c.databaseUrl)).size).toBe(1);
    expect(new Set(apps.map((c) => c.s3Bucket)).size).toBe(1);
    expect(new Set(apps.map((c) => c.keysDir)).size).toBe(1);
    expect(interpolate(active['minio-init'].environment ?? {}, vars).S3_BUCKET).toBe(apps[0].s3Bucket);
  });

  it('pins every image it adds to a version', () => {
    for (const [name, s] of Object.entries(override.services)) if (s.image) expect([name, s.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/)]);
  });
});
