import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client as PgClient } from 'pg';
import { JsonLogger } from '@kura/common';
import type { S3Settings } from '@kura/config';
import { freePort, startEmbeddedPostgres } from '@kura/embedded';
import { AbilityFactory, abilityToSql, DOCUMENT_SQL_FIELDS } from '@kura/access';
import { Role } from '@kura/identity';
import { ObjectStore } from '@kura/storage';
import { multipart, multipartBuffer } from '../support/multipart';
import { cpuSeconds, postgresCpuSeconds } from './proc-cpu';

const MiB = 1024 * 1024;
const ADMIN_PASSWORD = 'Bench-Admin-Pass-1';
const USER_PASSWORD = 'Bench-User-Pass-12345';

interface Row {
  name: string;
  api: number;
  raw: number;
  unit: string;
  ratio: number;
}

/**
 * Random content from a pool of 64 random 1 MiB blocks: the raw baseline stores bytes as
 * incompressible as the API's ciphertext (s3rver is measurably faster on repeated blocks).
 */
const POOL = Array.from({ length: 64 }, () => randomBytes(MiB));
function content(size: number): () => AsyncIterable<Buffer> {
  return async function* () {
    let i = 0;
    for (let left = size; left > 0; left -= MiB, i++) yield left >= MiB ? POOL[i % POOL.length] : POOL[i % POOL.length].subarray(0, left);
  };
}

export function request(base: string, method: string, url: string, opts: { token?: string; json?: unknown; headers?: Record<string, string>; body?: Readable } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.json));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const req = http.request(new URL(url, base), { method, headers, agent: keepAlive }, (res) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      const keep = !(res.headers['content-type'] ?? '').startsWith('application/octet-stream');
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body) pipeline(opts.body, req).catch(reject);
    else req.end(payload);
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 16 });

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU seconds (user + system) a process has used so far: where a case's time goes. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export async function startApi(dir: string, databaseUrl: string, s3: S3Settings): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const root = path.resolve(__dirname, '../../..');
  // KURA_BENCH_PROFILE=<dir>: write a V8 CPU profile of the api process there (where does the time go?).
  const profile = process.env.KURA_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.KURA_BENCH_PROFILE] : [];
  // The counting preload (SQL statements and S3 requests per case; bench-only, see instrument.ts).
  const counting = ['-r', path.join(root, 'dist/test/bench/instrument.js')];
  const child = spawn(process.execPath, [...profile, '-r', 'tsconfig-paths/register', ...counting, path.join(root, 'dist/apps/api/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      TS_NODE_BASEURL: path.join(root, 'dist'),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: `http://${s3.endPoint}:${s3.port}`,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      KEYS_DIR: path.join(dir, 'keys'),
      VAR_DIR: path.join(dir, 'var'),
      KURA_BENCH_COUNTS: path.join(dir, 'api-counts.json'),
      RUN_WORKER_IN_PROCESS: 'false',
      BOOTSTRAP_ADMIN_USERNAME: 'admin',
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    const ok = await request(base, 'GET', '/api/v1/health/ready').then((r) => r.status === 200, () => false);
    if (ok) return { child, base };
    if (child.exitCode !== null) throw new Error('the api process exited during start-up');
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error('the api did not become ready');
}

export async function startS3Process(directory: string): Promise<{ settings: S3Settings; pid: number; stop(): Promise<void> }> {
  const root = path.resolve(__dirname, '../../..');
  const script = `require(${JSON.stringify(path.join(root, 'dist/libs/embedded/src/embedded-s3.js'))})
    .startEmbeddedS3(${JSON.stringify(directory)}, 'kura-bench', 'us-east-1')
    .then((h) => process.stdout.write(JSON.stringify(h.settings) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const settings = await new Promise<S3Settings>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as S3Settings);
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    settings,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

/** SPEC §5 auth flow: bootstrap admin → a staff user of two departments → its token. */
async function staffToken(base: string): Promise<string> {
  const login = async (username: string, password: string, next: string) => {
    const r = await request(base, 'POST', '/api/v1/auth/login', { json: { username, password } });
    if (r.status !== 200 && r.status !== 201) throw new Error(`login ${username}: ${r.status} ${r.body.toString()}`);
    const body = JSON.parse(r.body.toString()) as { accessToken: string; mustChangePassword: boolean };
    if (!body.mustChangePassword) return body.accessToken;
    const c = await request(base, 'POST', '/api/v1/auth/password', { token: body.accessToken, json: { currentPassword: password, newPassword: next } });
    if (c.status >= 300) throw new Error(`password change ${username}: ${c.status} ${c.body.toString()}`);
    return login(username, next, next);
  };
  const admin = await login('admin', ADMIN_PASSWORD, ADMIN_PASSWORD + 'x');
  const created = await request(base, 'POST', '/api/v1/users', {
    token: admin,
    json: { username: 'bench', password: USER_PASSWORD, displayName: 'Bench', roles: ['staff'], clearance: 'SECRET', departments: ['dept-1', 'dept-2'], designations: [] },
  });
  if (created.status !== 201) throw new Error(`create user: ${created.status} ${created.body.toString()}`);
  return login('bench', USER_PASSWORD, USER_PASSWORD + 'x');
}

async function apiUpload(base: string, token: string, size: number, title: string): Promise<{ id: string }> {
  const m = multipart([['title', title], ['kind', 'record'], ['classification', 'CONFIDENTIAL'], ['department', 'dept-1']], { filename: 'bench.bin', content: content(size) });
  const r = await request(base, 'POST', '/api/v1/documents', { token, headers: { 'content-type': m.contentType, 'transfer-encoding': 'chunked' }, body: m.body });
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${r.body.toString().slice(0, 300)}`);
  return JSON.parse(r.body.toString()) as { id: string };
}

async function apiDownload(base: string, token: string, id: string, size: number): Promise<void> {
  const r = await request(base, 'GET', `/api/v1/documents/${id}/content`, { token });
  if (r.status !== 200 || r.bytes !== size) throw new Error(`download: ${r.status}, ${r.bytes} of ${size} bytes`);
}

async function rawGet(store: ObjectStore, key: string, size: number): Promise<void> {
  let bytes = 0;
  for await (const c of await store.get(key)) bytes += (c as Buffer).length;
  if (bytes !== size) throw new Error('raw get: short read');
}

/** 100,000 documents in bulk (10 departments, every level and marking), each with one version row. */
async function seed(databaseUrl: string, count: number): Promise<void> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  try {
    await pg.query(`
      INSERT INTO documents (id, title, kind, classification, department, owner_id, tags, personal_data, status, current_version, created_at, updated_at)
      SELECT gen_random_uuid(), 'Seeded document ' || g, (ARRAY['policy','procedure','record'])[1 + g % 3], (g * 7) % 4,
             'dept-' || (g % 10), gen_random_uuid(), ARRAY['tag-' || (g % 50)], (ARRAY['none','none','personal','specific'])[1 + (g / 3) % 4],
             'active', 1, now() - (g || ' seconds')::interval, now()
        FROM generate_series(1, $1) g`, [count]);
    await pg.query(`
      INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, wrapped_key, kek_id, nonce_prefix, chunk_size)
      SELECT gen_random_uuid(), d.id, 1, 4096, repeat('a', 64), 'application/octet-stream', 'seed.bin', d.owner_id, d.created_at,
             'seed/' || d.id, decode(repeat('00', 60), 'hex'), 'kek-seed-00000000', decode(repeat('00', 8), 'hex'), 1048576
        FROM documents d WHERE d.title LIKE 'Seeded document %'`);
    // Steady state: autovacuum would have run on a table this size (visibility map, statistics).
    await pg.query('VACUUM ANALYZE documents');
    await pg.query('VACUUM ANALYZE document_versions');
  } finally {
    await pg.end();
  }
}

/** EXPLAIN ANALYZE of the list's two statements for the bench user (where a page's time goes). */
async function explainList(databaseUrl: string): Promise<Record<string, string[]>> {
  const ability = new AbilityFactory().forActor({ id: randomUUID(), username: 'bench', roles: [Role.Staff], clearance: 3, departments: ['dept-1', 'dept-2'], designations: [], sessionId: randomUUID() });
  const access = abilityToSql(ability, 'read', 'Document', DOCUMENT_SQL_FIELDS);
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const plan = async (sql: string, params: unknown[]) =>
      ((await pg.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows as Array<{ 'QUERY PLAN': string }>).map((r) => r['QUERY PLAN']);
    const n = access.params.length;
    return {
      count: await plan(`SELECT count(*)::int AS total FROM documents d WHERE ${access.sql}`, access.params),
      page: await plan(
        `SELECT d.*, v.size, v.sha256 FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.number = d.current_version
          WHERE ${access.sql} ORDER BY d.created_at DESC, d.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...access.params, 20, 180],
      ),
    };
  } finally {
    await pg.end();
  }
}

interface Counts {
  sql: Record<string, number>;
  s3: Record<string, number>;
  texts?: Record<string, number>;
}

/** The api's SQL statements and S3 requests so far (the counting preload writes them on SIGUSR2). */
async function apiCounts(child: ChildProcess, file: string): Promise<Counts> {
  await rm(file, { force: true });
  child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Counts;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('the api did not write its counts');
}

function perOperation(from: Counts, to: Counts, n: number): Counts {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round(((v - (a[k] ?? 0)) / n) * 100) / 100]).filter(([, v]) => (v as number) > 0));
  return { sql: diff(from.sql, to.sql), s3: diff(from.s3, to.s3), texts: diff(from.texts ?? {}, to.texts ?? {}) };
}

/**
 * `npm run bench -- storage`. KURA_BENCH_ONLY=large,small,rss,list picks cases (default: all);
 * KURA_BENCH_QUICK=1 is the 64 MiB large-file case only (profiling, smoke runs).
 */
export async function runStorageBench(): Promise<void> {
  const only = new Set((process.env.KURA_BENCH_ONLY ?? (process.env.KURA_BENCH_QUICK ? 'large' : 'large,small,rss,list')).split(',').map((c) => c.trim()));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-storage-'));
  const logger = new JsonLogger('error');
  const pgDir = path.join(dir, 'postgres');
  const pg = await startEmbeddedPostgres(pgDir, logger, { persistent: false });
  // s3rver in a process of its own: it must not share an event loop with the load generator.
  const s3server = await startS3Process(path.join(dir, 'objects'));
  const s3 = { ...s3server.settings, bucket: 'kura-bench' };
  let api: { child: ChildProcess; base: string } | undefined;
  const rows: Row[] = [];
  const extra: Record<string, unknown> = { cases: [...only], loadAverage: { start: os.loadavg() } };
  // Per case: wall time and CPU seconds of each process (the API's extra hop, made visible).
  const cpuLog: Array<{ case: string; ms: number; api: number; s3: number; bench: number; pg?: number }> = [];
  extra.cpu = cpuLog;
  try {
    api = await startApi(dir, pg.url, s3);
    const { base, child } = api;
    const token = await staffToken(base);
    const store = new ObjectStore(s3);
    await store.ensureBucket();
    const cpu = () => ({ api: cpuSeconds(child.pid as number), s3: cpuSeconds(s3server.pid), bench: cpuSeconds(process.pid), pg: postgresCpuSeconds(pgDir) });
    const spent = (from: ReturnType<typeof cpu>) => {
      const to = cpu();
      return { api: to.api - from.api, s3: to.s3 - from.s3, bench: to.bench - from.bench, pg: to.pg - from.pg };
    };

    // Throughput: the API (multipart → encrypt → S3; S3 → decrypt → HTTP) next to the raw client.
    // Each run measures API and raw back to back, so both see the same machine load; the
    // table shows medians over runs, and the ratio is the median of the paired ratios.
    const sizes = [['1 MiB', MiB, 8], ['64 MiB', 64 * MiB, 3], ['512 MiB', 512 * MiB, 2]] as const;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    for (const [label, size, runs] of !only.has('large') ? [] : process.env.KURA_BENCH_QUICK ? sizes.slice(1, 2) : sizes) {
      const m = { apiUp: [] as number[], apiDown: [] as number[], rawUp: [] as number[], rawDown: [] as number[] };
      const mbps = (ms: number) => size / MiB / (ms / 1000);
      for (let i = 0; i < runs; i++) {
        let peak = 0;
        const before = rss(child.pid as number);
        const sampler = setInterval(() => (peak = Math.max(peak, rss(child.pid as number))), 20);
        let mark = cpu();
        const up = await time(() => apiUpload(base, token, size, `bench ${label} ${i}`));
        cpuLog.push({ case: `api upload ${label}`, ms: up.ms, ...spent(mark) });
        clearInterval(sampler);
        if (size === 512 * MiB) {
          const growth = (Math.max(peak, before) - before) / MiB;
          const prev = extra.rss512 as { growthMiB: number } | undefined;
          if (!prev || growth > prev.growthMiB) extra.rss512 = { beforeMiB: before / MiB, peakMiB: Math.max(peak, before) / MiB, growthMiB: growth };
        }
        m.apiUp.push(mbps(up.ms));
        mark = cpu();
        const down = await time(() => apiDownload(base, token, up.value.id, size));
        cpuLog.push({ case: `api download ${label}`, ms: down.ms, ...spent(mark) });
        m.apiDown.push(mbps(down.ms));
        const key = `raw/${randomUUID()}`;
        mark = cpu();
        const rawUp = await time(() => store.put(key, Readable.from(content(size)())));
        cpuLog.push({ case: `raw upload ${label}`, ms: rawUp.ms, ...spent(mark) });
        m.rawUp.push(mbps(rawUp.ms));
        mark = cpu();
        const rawDown = await time(() => rawGet(store, key, size));
        cpuLog.push({ case: `raw download ${label}`, ms: rawDown.ms, ...spent(mark) });
        m.rawDown.push(mbps(rawDown.ms));
        await store.delete(key);
      }
      const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
      rows.push({ name: `upload ${label}`, api: median(m.apiUp), raw: median(m.rawUp), unit: 'MiB/s', ratio: ratio(m.apiUp, m.rawUp) });
      rows.push({ name: `download ${label}`, api: median(m.apiDown), raw: median(m.rawDown), unit: 'MiB/s', ratio: ratio(m.apiDown, m.rawDown) });
    }

    if (only.has('small')) {
      // Small documents: 8 concurrent clients, 4 KiB each, API and raw puts paired per round.
      // Each client sends its body with a Content-Length in one write, as browsers and curl do for small files.
      const clients = 8;
      const perClient = Number(process.env.KURA_BENCH_SMALL_PER_CLIENT ?? 40);
      const rounds = Number(process.env.KURA_BENCH_SMALL_ROUNDS ?? 3);
      const counts = path.join(dir, 'api-counts.json');
      const creates: number[] = [];
      const puts: number[] = [];
      const apiSmall = async (title: string) => {
        const m = await multipartBuffer([['title', title], ['kind', 'record'], ['classification', 'CONFIDENTIAL'], ['department', 'dept-1']], { filename: 'slip.bin', content: randomBytes(4096) });
        const r = await request(base, 'POST', '/api/v1/documents', { token, headers: { 'content-type': m.contentType, 'content-length': String(m.body.length) }, body: Readable.from([m.body]) });
        if (r.status !== 201) throw new Error(`upload: ${r.status} ${r.body.toString().slice(0, 300)}`);
      };
      // Warm-up (JIT, pools, connections) outside the figures.
      await Promise.all(Array.from({ length: clients }, (_, c) => apiSmall(`warm ${c}`)));
      await Promise.all(Array.from({ length: clients }, () => store.put(`raw-small/${randomUUID()}`, Readable.from([randomBytes(4096)]))));
      for (let round = 0; round < rounds; round++) {
        const n = clients * perClient;
        const before = await apiCounts(child, counts);
        let mark = cpu();
        const small = await time(() => Promise.all(Array.from({ length: clients }, async (_, c) => {
          for (let i = 0; i < perClient; i++) await apiSmall(`small ${round}-${c}-${i}`);
        })));
        cpuLog.push({ case: 'api 4 KiB creates', ms: small.ms / n, ...perEach(spent(mark), n) });
        if (round === 0) extra.smallCreatePerDocument = perOperation(before, await apiCounts(child, counts), n);
        mark = cpu();
        const rawSmall = await time(() => Promise.all(Array.from({ length: clients }, async () => {
          for (let i = 0; i < perClient; i++) await store.put(`raw-small/${randomUUID()}`, Readable.from([randomBytes(4096)]));
        })));
        cpuLog.push({ case: 'raw 4 KiB puts', ms: rawSmall.ms / n, ...perEach(spent(mark), n) });
        creates.push(n / (small.ms / 1000));
        puts.push(n / (rawSmall.ms / 1000));
      }
      const ratios = creates.map((c, i) => c / puts[i]);
      rows.push({ name: '4 KiB creates, 8 clients', api: median(creates), raw: median(puts), unit: 'per s', ratio: median(ratios) });
      extra.small = { clients, perClient, rounds, creates, puts, ratios, loadAverage: os.loadavg() };
    }

    if (only.has('rss')) {
      // 50 concurrent 64 MiB uploads: the api's resident memory before, at peak (sampled every 20 ms) and after.
      const uploads = Number(process.env.KURA_BENCH_RSS_UPLOADS ?? 50);
      const size = 64 * MiB;
      const pid = child.pid as number;
      const before = rss(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
      const mark = cpu();
      const all = await time(() => Promise.all(Array.from({ length: uploads }, (_, i) => apiUpload(base, token, size, `rss ${i}`))));
      clearInterval(sampler);
      const afterNow = rss(pid);
      await new Promise((r) => setTimeout(r, 2000));
      extra.rss50x64 = {
        uploads,
        sizeMiB: size / MiB,
        seconds: all.ms / 1000,
        mibPerSecond: (uploads * size) / MiB / (all.ms / 1000),
        beforeMiB: before / MiB,
        peakMiB: peak / MiB,
        growthMiB: (peak - before) / MiB,
        afterMiB: afterNow / MiB,
        after2sMiB: rss(pid) / MiB,
        cpu: spent(mark),
        loadAverage: os.loadavg(),
      };
    }

    if (only.has('list')) {
      // The ABAC-filtered list over 100,000 documents.
      await seed(pg.url, 100_000);
      extra.listPlans = await explainList(pg.url);
      const latencies: number[] = [];
      for (let i = 0; i < 220; i++) {
        const page = 1 + (i % 10);
        const q = i % 2 === 0 ? `/api/v1/documents?page=${page}&pageSize=20` : `/api/v1/documents?page=${page}&pageSize=20&kind=policy`;
        const r = await time(() => request(base, 'GET', q, { token }));
        if (r.value.status !== 200) throw new Error(`list: ${r.value.status}`);
        if (i >= 20) latencies.push(r.ms);
        if (i === 0) extra.listTotalVisible = (JSON.parse(r.value.body.toString()) as { total: number }).total;
      }
      latencies.sort((a, b) => a - b);
      extra.list = { documents: 100_000, samples: latencies.length, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) };
    }
  } finally {
    if (api && api.child.exitCode === null) {
      const exited = new Promise((r) => api?.child.once('exit', r));
      api.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    await s3server.stop().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  (extra.loadAverage as Record<string, number[]>).end = os.loadavg();

  const rssInfo = extra.rss512 as { growthMiB: number; peakMiB: number } | undefined;
  const rss50 = extra.rss50x64 as { uploads: number; beforeMiB: number; peakMiB: number; growthMiB: number; after2sMiB: number; mibPerSecond: number } | undefined;
  const list = extra.list as { p50Ms: number; p95Ms: number } | undefined;
  const lines = [
    'storage benchmark (API = HTTP multipart → AES-256-GCM chunks → S3 and back; raw = minio client, plaintext, same S3 server)',
    `load average at start ${(extra.loadAverage as { start: number[] }).start.map((l) => l.toFixed(2)).join(' ')}, at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `${'case'.padEnd(28)}${'api'.padStart(12)}${'raw'.padStart(12)}  unit     api/raw`,
    ...rows.map((r) => `${r.name.padEnd(28)}${r.api.toFixed(1).padStart(12)}${r.raw.toFixed(1).padStart(12)}  ${r.unit.padEnd(8)} ${r.ratio.toFixed(2)}`),
  ];
  if (rssInfo) lines.push(`api RSS during the 512 MiB uploads (worst run): peak ${rssInfo.peakMiB.toFixed(0)} MiB, growth ${rssInfo.growthMiB.toFixed(0)} MiB (target < 100)`);
  if (rss50) lines.push(`api RSS, ${rss50.uploads} concurrent 64 MiB uploads: before ${rss50.beforeMiB.toFixed(0)}, peak ${rss50.peakMiB.toFixed(0)}, growth ${rss50.growthMiB.toFixed(0)} MiB (target ≤ 256), 2 s after ${rss50.after2sMiB.toFixed(0)} MiB; ${rss50.mibPerSecond.toFixed(1)} MiB/s in all`);
  const perDoc = extra.smallCreatePerDocument as Counts | undefined;
  if (perDoc) lines.push(`per 4 KiB create: SQL ${JSON.stringify(perDoc.sql)}, S3 ${JSON.stringify(perDoc.s3)}`);
  if (list) lines.push(`list page over 100,000 documents (${extra.listTotalVisible} visible): p50 ${list.p50Ms.toFixed(1)} ms, p95 ${list.p95Ms.toFixed(1)} ms (target < 50)`);
  const plans = extra.listPlans as Record<string, string[]> | undefined;
  if (plans) for (const [name, lines0] of Object.entries(plans)) lines.push(`list ${name}: ${lines0.filter((l) => /Execution Time|Scan|Sort|Limit/.test(l)).map((l) => l.trim()).join(' | ')}`);
  const cases = [...new Set(cpuLog.map((c) => c.case))];
  lines.push('CPU seconds per run (mean; 4 KiB cases: per document, in ms): wall / api / s3rver / bench process / PostgreSQL');
  for (const name of cases) {
    const runs = cpuLog.filter((c) => c.case === name);
    const perDocument = name.includes('4 KiB');
    const mean = (f: (c: (typeof runs)[number]) => number) => ((runs.reduce((a, c) => a + f(c), 0) / runs.length) * (perDocument ? 1000 : 1)).toFixed(2);
    lines.push(`  ${name.padEnd(24)} ${mean((c) => c.ms / 1000).padStart(7)} ${mean((c) => c.api).padStart(7)} ${mean((c) => c.s3).padStart(7)} ${mean((c) => c.bench).padStart(7)} ${mean((c) => c.pg ?? 0).padStart(7)}`);
  }
  console.log(lines.join('\n'));
  const out = path.resolve(__dirname, '../../../bench/results');
  await mkdir(out, { recursive: true });
  const name = process.env.KURA_BENCH_OUT ?? (process.env.KURA_BENCH_QUICK ? 'storage.quick.json' : 'storage.json');
  await writeFile(path.join(out, name), JSON.stringify({ at: new Date().toISOString(), host: { cpus: os.cpus().length, node: process.version }, rows, ...extra }, null, 2) + '\n');
}

/** CPU seconds of a case divided over its n operations. */
function perEach(c: { api: number; s3: number; bench: number; pg: number }, n: number) {
  return { api: c.api / n, s3: c.s3 / n, bench: c.bench / n, pg: c.pg / n };
}
