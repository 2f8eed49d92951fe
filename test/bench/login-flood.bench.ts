import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { JsonLogger } from '@kura/common';
import { loadConfig } from '@kura/config';
import { startEmbeddedPostgres, startEmbeddedS3 } from '@kura/embedded';
import { createApi } from '../../apps/api/src/api.factory';

const ATTACKERS = Number(process.env.BENCH_LOGIN_FLOOD_ATTACKERS ?? 60);
const ROUNDS = Number(process.env.BENCH_LOGIN_FLOOD_ROUNDS ?? 3);
const POLL_MS = 20;
const ADMIN = { username: 'admin', password: 'Bench-Admin-Password-1' };

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

/**
 * `npm run bench -- login-flood`: ATTACKERS parallel failing logins for `admin` (rate limits
 * lifted, so every one of them reaches scrypt) while an authenticated client polls
 * GET /auth/me. Prints the poller's latency percentiles and the pool's waiting clients.
 */
export async function runLoginFloodBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-login-'));
  const logger = new JsonLogger('error');
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), logger, { persistent: false });
  const s3 = await startEmbeddedS3(path.join(dir, 'objects'), 'kura-bench', 'us-east-1');
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: pg.url,
      S3_ENDPOINT: `http://${s3.settings.endPoint}:${s3.settings.port}`,
      S3_ACCESS_KEY: s3.settings.accessKey,
      S3_SECRET_KEY: s3.settings.secretKey,
      S3_BUCKET: s3.settings.bucket,
      KEYS_DIR: path.join(dir, 'keys'),
      VAR_DIR: path.join(dir, 'var'),
      BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      LOGIN_RATE_LIMIT_PER_ADDRESS: '1000000',
      LOGIN_RATE_LIMIT_PER_USERNAME: '1000000',
      LOCKOUT_THRESHOLD: '100',
      // Attackers come from many addresses through a trusted proxy: each has its own lockout count.
      TRUST_PROXY: 'loopback',
    });
    const app = await createApi(config, { databaseUrl: pg.url, s3: s3.settings }, logger);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/api/v1`;
    const pool = (app.get(DataSource).driver as unknown as { master: Pool }).master;
    try {
      const post = (body: unknown, address: string) =>
        fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify(body) });
      const login = await post(ADMIN, '192.0.2.250');
      const { accessToken } = (await login.json()) as { accessToken: string };

      const latencies: number[] = [];
      let maxWaiting = 0;
      let waitingSamples = 0;
      let flooding = true;
      const sampler = setInterval(() => {
        maxWaiting = Math.max(maxWaiting, pool.waitingCount);
        if (pool.waitingCount > 0) waitingSamples++;
      }, 2);
      const poller = (async () => {
        while (flooding) {
          const started = performance.now();
          const res = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`GET /auth/me answered ${res.status}`);
          latencies.push(performance.now() - started);
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      })();
      const floodStarted = performance.now();
      const statuses = new Map<number, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const answers = await Promise.all(
          Array.from({ length: ATTACKERS }, (_, i) => post({ username: 'admin', password: `Wrong-password-${round}-${i}` }, `198.51.100.${i + 1}`).then(async (r) => (await r.arrayBuffer(), r.status))),
        );
        for (const s of answers) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      const floodMs = performance.now() - floodStarted;
      flooding = false;
      await poller;
      clearInterval(sampler);

      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`login-flood: ${ROUNDS} rounds × ${ATTACKERS} parallel failing logins for admin in ${(floodMs / 1000).toFixed(2)} s; answers ${JSON.stringify(Object.fromEntries(statuses))}`);
      console.log(`  GET /auth/me while flooded: n=${sorted.length} p50=${percentile(sorted, 50).toFixed(1)} ms p95=${percentile(sorted, 95).toFixed(1)} ms p99=${percentile(sorted, 99).toFixed(1)} ms max=${(sorted.at(-1) ?? 0).toFixed(1)} ms (target p99 < 200 ms)`);
      console.log(`  pool: size ${pool.totalCount}, max waiting clients ${maxWaiting}, samples with a waiter ${waitingSamples}`);
      const owner = await post(ADMIN, '192.0.2.251');
      console.log(`  the administrator from another address afterwards: ${owner.status === 200 ? 'logged in (200)' : `refused (${owner.status})`}`);
      const out = path.resolve('bench/results/login-flood.json');
      await mkdir(path.dirname(out), { recursive: true });
      const results = {
        attackers: ATTACKERS,
        rounds: ROUNDS,
        floodSeconds: floodMs / 1000,
        answers: Object.fromEntries(statuses),
        me: { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
        pool: { maxWaiting, samplesWithWaiter: waitingSamples },
        ownerLoginStatus: owner.status,
        loadAverage: os.loadavg(),
      };
      await writeFile(out, JSON.stringify(results, null, 2) + '\n');
    } finally {
      await app.close();
    }
  } finally {
    await s3.stop();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
