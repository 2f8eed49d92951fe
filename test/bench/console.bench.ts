import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { Clock, JsonLogger } from '@kura/common';
import { loadConfig } from '@kura/config';
import { startEmbeddedPostgres, startEmbeddedS3 } from '@kura/embedded';
import { createApi } from '../../apps/api/src/api.factory';
import { buildConsole, launchBrowser, newContext } from '../web/browser';

const DOCUMENTS = Number(process.env.BENCH_CONSOLE_DOCUMENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 5);
const BUDGET_JS_GZIP_BYTES = 250 * 1024;
const BUDGET_FIRST_PAGE_MS = 1000;

/** Every script the console's index.html loads before it can render (entry + module preloads), gzipped. */
async function initialJsGzipBytes(webDir: string): Promise<{ files: string[]; bytes: number; gzipBytes: number }> {
  const html = await readFile(path.join(webDir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map((m) => m[1]);
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    const body = await readFile(path.join(webDir, f));
    bytes += body.length;
    gzipBytes += gzipSync(body, { level: 9 }).length;
  }
  return { files, bytes, gzipBytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `npm run bench -- console`: the console's budgets (issue 15). Initial JS ≤ 250 KB gzipped;
 * the first document page visible ≤ 1 s after pressing "Sign in", over 100k documents the
 * user may partly see, on the embedded PostgreSQL of this machine.
 */
export async function runConsoleBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-console-'));
  const logger = new JsonLogger('error');
  const [webDir, pg, s3] = await Promise.all([
    buildConsole(),
    startEmbeddedPostgres(path.join(dir, 'postgres'), logger, { persistent: false }),
    startEmbeddedS3(path.join(dir, 'objects'), 'kura-bench', 'us-east-1'),
  ]);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: pg.url,
    S3_ENDPOINT: `http://${s3.settings.endPoint}:${s3.settings.port}`,
    S3_ACCESS_KEY: s3.settings.accessKey,
    S3_SECRET_KEY: s3.settings.secretKey,
    S3_BUCKET: 'kura-bench',
    KEYS_DIR: path.join(dir, 'keys'),
    VAR_DIR: path.join(dir, 'var'),
    WEB_DIR: webDir,
    BOOTSTRAP_ADMIN_USERNAME: 'admin',
    BOOTSTRAP_ADMIN_PASSWORD: 'Bootstrap-Admin-Pass-1',
  });
  const app = await createApi(config, { databaseUrl: pg.url, s3: s3.settings }, logger, new Clock());
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const browser = await launchBrowser();
  try {
    const api = async (method: string, p: string, body: unknown, token?: string) => {
      const res = await fetch(`${base}/api/v1${p}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${p} answered ${res.status}: ${await res.text()}`);
      return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
    };
    const admin = (await api('POST', '/auth/login', { username: 'admin', password: 'Bootstrap-Admin-Pass-1' }))!.accessToken as string;
    const staff = await api('POST', '/users', { username: 'bench-clerk', password: 'Temporary-Bench-1', displayName: 'Bench', roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['general'], designations: [] }, admin);
    const temp = (await api('POST', '/auth/login', { username: 'bench-clerk', password: 'Temporary-Bench-1' }))!.accessToken as string;
    await api('POST', '/auth/password', { currentPassword: 'Temporary-Bench-1', newPassword: 'Bench-Clerk-Own-Pass-1' }, temp);

    // 100k documents straight into the tables (the list reads metadata only): a third in the
    // clerk's department, the rest elsewhere, every level, a few `specific` ones.
    const db = new Client({ connectionString: pg.url });
    await db.connect();
    const seeded = Date.now();
    await db.query(
      `INSERT INTO documents (id, title, kind, classification, department, owner_id, tags, personal_data, status, current_version, created_at, updated_at)
       SELECT gen_random_uuid(), 'Bench document ' || i, (ARRAY['policy','procedure','record'])[1 + i % 3], i % 4,
              CASE WHEN i % 3 = 0 THEN 'general' ELSE 'dept-' || (i % 17) END, $1, ARRAY['bench'],
              CASE WHEN i % 97 = 0 THEN 'specific' ELSE 'none' END, 'active', 1,
              now() - make_interval(secs => i), now() - make_interval(secs => i)
         FROM generate_series(1, $2::int) AS i`,
      [staff!.id, DOCUMENTS],
    );
    await db.query(
      `INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, kek_id, nonce_prefix, chunk_size)
       SELECT gen_random_uuid(), d.id, 1, 1024, repeat('ab', 32), 'text/plain', 'bench.txt', d.owner_id, d.created_at, 'bench/' || d.id, 'bench', '\\x0000000000000000'::bytea, 65536
         FROM documents d`,
    );
    await db.query('ANALYZE documents; ANALYZE document_versions');
    const seedSeconds = (Date.now() - seeded) / 1000;
    const visible = Number((await db.query(`SELECT count(*)::int AS n FROM documents WHERE personal_data <> 'specific' AND ((department = 'general' AND classification <= 2) OR classification = 0)`)).rows[0].n);
    await db.end();

    const js = await initialJsGzipBytes(webDir);
    const firstPage: number[] = [];
    const nextPage: number[] = [];
    // Where the first page's time goes: each API call's duration (request start to response end).
    const breakdown: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      const ctx = await newContext(browser, 'ja');
      const page = await ctx.newPage();
      await page.goto(`${base}/login`);
      await page.locator('input[name=username]').fill('bench-clerk');
      await page.locator('input[name=password]').fill('Bench-Clerk-Own-Pass-1');
      const api: Array<[string, number]> = [];
      page.on('requestfinished', (r) => {
        const url = new URL(r.url());
        if (url.pathname.startsWith('/api/v1/')) api.push([`${r.method()} ${url.pathname}`, r.timing().responseEnd]);
      });
      const t0 = performance.now();
      await page.locator('input[name=password]').press('Enter');
      await page.locator('[data-testid=documents-table] tbody tr').first().waitFor();
      firstPage.push(performance.now() - t0);
      for (const [name, ms] of api) (breakdown[name] ??= []).push(ms);
      const t1 = performance.now();
      await page.getByRole('button', { name: '次へ' }).click();
      await page.waitForURL(/page=2/);
      await page.locator('.pager span').filter({ hasText: /^2 \// }).waitFor();
      nextPage.push(performance.now() - t1);
      await ctx.close();
    }
    const result = {
      documents: DOCUMENTS,
      visibleToClerk: visible,
      seedSeconds,
      initialJs: { files: js.files, bytes: js.bytes, gzipBytes: js.gzipBytes, budgetGzipBytes: BUDGET_JS_GZIP_BYTES, withinBudget: js.gzipBytes <= BUDGET_JS_GZIP_BYTES },
      firstDocumentPageMs: { runs: firstPage.map(Math.round), median: Math.round(median(firstPage)), budget: BUDGET_FIRST_PAGE_MS, withinBudget: median(firstPage) <= BUDGET_FIRST_PAGE_MS },
      nextPageMs: { runs: nextPage.map(Math.round), median: Math.round(median(nextPage)) },
      firstPageApiMedianMs: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, Math.round(median(v))])),
    };
    console.log(JSON.stringify(result, null, 2));
    await mkdir('bench/results', { recursive: true });
    await writeFile(path.join('bench/results', 'console.json'), JSON.stringify(result, null, 2));
  } finally {
    await browser.close();
    await app.close();
    await pg.stop();
    await s3.stop();
  }
}
