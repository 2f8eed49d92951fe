import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { abilityToSql, buildAbility, DOCUMENT_SQL_FIELDS } from '@kura/access';
import { JsonLogger } from '@kura/common';
import { migrate } from '@kura/database';
import { DocumentsRepository } from '@kura/documents';
import { startEmbeddedPostgres } from '@kura/embedded';
import { Role } from '@kura/identity';

const SIZES = (process.env.BENCH_LIST_SIZES ?? '100000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 60);
const PAGE_SIZE = 20;
const SEED_BATCH = 100_000;

const ALICE = { id: '00000000-0000-4000-8000-00000000a11c', username: 'alice', roles: [Role.Staff], clearance: 3, departments: ['finance'], designations: [], sessionId: 's' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Adds documents (and their first versions) up to `total`: 4 departments, 10 % PUBLIC, 5 %
 * `specific`, so a finance staff member sees about a third of them.
 */
async function seed(ds: DataSource, total: number): Promise<void> {
  const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM documents`)) as Array<{ n: number }>;
  for (let from = n; from < total; from += SEED_BATCH) {
    const to = Math.min(total, from + SEED_BATCH);
    await ds.query(
      `WITH docs AS (
         INSERT INTO documents (id, title, kind, classification, department, owner_id, personal_data, current_version, created_at, updated_at)
         SELECT gen_random_uuid(), 'document ' || i, (ARRAY['policy','procedure','record'])[1 + i % 3],
                CASE WHEN i % 10 = 0 THEN 0 WHEN i % 10 < 5 THEN 1 WHEN i % 10 < 9 THEN 2 ELSE 3 END,
                (ARRAY['finance','legal','sales','hr'])[1 + (i / 10) % 4], $3::uuid,
                CASE WHEN i % 20 = 7 THEN 'specific' ELSE 'none' END, 1,
                timestamptz '2020-01-01' + i * interval '1 minute', timestamptz '2020-01-01' + i * interval '1 minute'
           FROM generate_series($1::int, $2::int - 1) AS i
         RETURNING id, created_at)
       INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, kek_id, nonce_prefix, chunk_size)
       SELECT gen_random_uuid(), id, 1, 4096, repeat('a', 64), 'application/pdf', 'scan.pdf', $3::uuid, created_at, 'objects/' || id, 'k', '\\x0000000000000000', 65536 FROM docs`,
      [from, to, ALICE.id],
    );
  }
  await ds.query('VACUUM ANALYZE documents');
  await ds.query('VACUUM ANALYZE document_versions');
}

async function once(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function summary(ms: number[]): { p50: number; p95: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: Number(percentile(sorted, 50).toFixed(2)), p95: Number(percentile(sorted, 95).toFixed(2)) };
}

/**
 * p50/p95 of each of `fns` over RUNS rounds, interleaved (one run of each per round, the order
 * alternating): every size sees the same machine load, so their ratio is fair on a shared box.
 */
async function paired(fns: Array<() => Promise<unknown>>): Promise<Array<{ p50: number; p95: number }>> {
  for (let i = 0; i < 5; i++) for (const fn of fns) await fn();
  const ms: number[][] = fns.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? fns.map((_, k) => k) : fns.map((_, k) => fns.length - 1 - k);
    for (const k of order) ms[k].push(await once(fns[k]));
  }
  return ms.map(summary);
}

interface Sized {
  size: number;
  ds: DataSource;
  repo: DocumentsRepository;
}

/**
 * The document list at 100k and 1M documents, as a finance staff member (who sees about a
 * third): the first page, a deep keyset page; and the list as it was before issue 14 (an
 * unbounded count beside the page, on the plain index). Each size has its own database in one
 * cluster, and the sizes are measured interleaved, so the growth from 100k to 1M is not the
 * machine's load changing between them; EXPLAIN (ANALYZE, BUFFERS) shows the server's share.
 */
export async function runListBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-list-'));
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), new JsonLogger('error'), { persistent: false });
  const sized: Sized[] = [];
  const admin = new DataSource({ type: 'postgres', url: pg.url, extra: { max: 1 } });
  try {
    await admin.initialize();
    const access = abilityToSql(buildAbility(ALICE), 'read', 'Document', DOCUMENT_SQL_FIELDS);
    for (const size of SIZES) {
      const url = new URL(pg.url);
      url.pathname = `/list_${size}`;
      await admin.query(`CREATE DATABASE list_${size}`);
      await migrate(url.toString());
      const ds = new DataSource({ type: 'postgres', url: url.toString(), extra: { max: 4 } });
      await ds.initialize();
      process.stderr.write(`list bench: seeding ${size} documents...\n`);
      await seed(ds, size);
      sized.push({ size, ds, repo: new DocumentsRepository(ds) });
    }
    const cpu0 = process.cpuUsage();
    const first = await paired(sized.map((z) => () => z.repo.list(access, {}, 1, PAGE_SIZE)));
    // Half way down with the keyset cursor: what page 10,000 costs without OFFSET.
    const middles = await Promise.all(
      sized.map(async (z) => ((await z.ds.query(`SELECT created_at::text AS "createdAt", id FROM documents ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`, [Math.floor(z.size / 2)])) as Array<{ createdAt: string; id: string }>)[0]),
    );
    const deep = await paired(sized.map((z, i) => () => z.repo.list(access, {}, 1, PAGE_SIZE, middles[i])));
    // Where a first page's time goes: its two statements (repo.list runs them at once) alone, and their plans with buffers.
    const countSql = `SELECT count(*)::int AS total FROM (SELECT 1 FROM documents d WHERE ${access.sql} LIMIT $${access.params.length + 1}) matches`;
    const countParams = [...access.params, sized[0].repo.listTotalBound + 1];
    const pageSql = `SELECT d.id, d.title, v.size::float8 AS size, v.sha256 FROM documents d
       JOIN document_versions v ON v.document_id = d.id AND v.number = d.current_version
      WHERE ${access.sql} ORDER BY d.created_at DESC, d.id DESC LIMIT $${access.params.length + 1}`;
    const pageParams = [...access.params, PAGE_SIZE];
    const countAlone = await paired(sized.map((z) => () => z.ds.query(countSql, countParams)));
    const pageAlone = await paired(sized.map((z) => () => z.ds.query(pageSql, pageParams)));
    const plan = async (ds: DataSource, sql: string, params: unknown[]) =>
      ((await ds.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)) as Array<{ 'QUERY PLAN': string }>)
        .map((r) => r['QUERY PLAN'].trim())
        .filter((l) => /Scan|Buffers|Execution Time|Limit|Nested Loop|Heap Fetches|Rows Removed/.test(l));
    // The server's own time, many times over: median execution time of each statement.
    const serverMs = async (ds: DataSource, sql: string, params: unknown[]) => {
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const rows = (await ds.query(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`, params)) as Array<{ 'QUERY PLAN': Array<{ 'Execution Time': number }> }>;
        times.push(rows[0]['QUERY PLAN'][0]['Execution Time']);
      }
      return summary(times);
    };
    const detail: Array<{
      plans: { count: string[]; page: string[] };
      serverExecutionMs: { count: { p50: number; p95: number }; page: { p50: number; p95: number } };
      relationPages: Record<string, number>;
    }> = [];
    for (const z of sized) {
      const sizes = (await z.ds.query(
        `SELECT relname AS name, pg_relation_size(oid)::bigint / 8192 AS pages FROM pg_class
          WHERE relname IN ('documents', 'document_versions', 'ix_documents_list', 'ix_documents_department_classification', 'uq_document_versions_number') ORDER BY relname`,
      )) as Array<{ name: string; pages: string }>;
      detail.push({
        plans: { count: await plan(z.ds, countSql, countParams), page: await plan(z.ds, pageSql, pageParams) },
        serverExecutionMs: { count: await serverMs(z.ds, countSql, countParams), page: await serverMs(z.ds, pageSql, pageParams) },
        relationPages: Object.fromEntries(sizes.map((r) => [r.name, Number(r.pages)])),
      });
    }
    // The list before issue 14: an unbounded count beside the page, on the plain (created_at, id) index.
    for (const z of sized) {
      await z.ds.query(`CREATE INDEX ix_documents_created ON documents (created_at DESC, id DESC)`);
      await z.ds.query(`DROP INDEX ix_documents_list`);
    }
    const unboundedCount = (z: Sized) => z.ds.query(`SELECT count(*)::int AS n FROM documents d WHERE ${access.sql}`, access.params);
    const before = await paired(sized.map((z) => () => Promise.all([unboundedCount(z), z.repo.list(access, {}, 1, PAGE_SIZE)])));
    const unbounded = await paired(sized.map((z) => () => unboundedCount(z)));
    const cpu = process.cpuUsage(cpu0);
    const [{ sharedBuffers }] = (await admin.query(`SELECT current_setting('shared_buffers') AS "sharedBuffers"`)) as Array<{ sharedBuffers: string }>;
    const results = await Promise.all(
      sized.map(async (z, i) => {
      const [{ visible }] = (await z.ds.query(`SELECT count(*)::int AS visible FROM documents d WHERE ${access.sql}`, access.params)) as Array<{ visible: number }>;
      return {
        documents: z.size,
        visible,
        firstPageMs: first[i],
        firstPageBeforeMs: before[i],
        keysetPageHalfwayMs: deep[i],
        countStatementMs: countAlone[i],
        pageStatementMs: pageAlone[i],
        unboundedCountMs: unbounded[i],
        ...detail[i],
      };
      }),
    );
    const growth = (f: (r: (typeof results)[number]) => number) => (results.length > 1 ? Number((f(results[results.length - 1]) / f(results[0]) - 1).toFixed(3)) : null);
    const out = {
      benchmark: 'list',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, sharedBuffers },
      pageSize: PAGE_SIZE,
      runs: RUNS,
      interleaved: true,
      clientCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      growthLargestVsSmallest: {
        firstPageP50: growth((r) => r.firstPageMs.p50),
        firstPageP95: growth((r) => r.firstPageMs.p95),
        serverCountP50: growth((r) => r.serverExecutionMs.count.p50),
        serverPageP50: growth((r) => r.serverExecutionMs.page.p50),
      },
      results,
      target: { firstPageP95Ms: 20, slowerThan100kAtMost: 0.2 },
    };
    console.table(
      results.map((r) => ({
        documents: r.documents,
        visible: r.visible,
        'first page p50/p95 ms': `${r.firstPageMs.p50} / ${r.firstPageMs.p95}`,
        'before: first page p50/p95 ms': `${r.firstPageBeforeMs.p50} / ${r.firstPageBeforeMs.p95}`,
        'keyset page half way p95 ms': r.keysetPageHalfwayMs.p95,
        'count / page statement alone p95 ms': `${r.countStatementMs.p95} / ${r.pageStatementMs.p95}`,
        'server count / page p50 ms': `${r.serverExecutionMs.count.p50} / ${r.serverExecutionMs.page.p50}`,
        'old unbounded count p95 ms': r.unboundedCountMs.p95,
      })),
    );
    console.log(`growth ${SIZES[SIZES.length - 1]} vs ${SIZES[0]}: ${JSON.stringify(out.growthLargestVsSmallest)}; load average ${out.loadAverage.join(' ')}`);
    const file = path.resolve('bench/results', process.env.KURA_BENCH_OUT ?? 'list.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(out, null, 2) + '\n');
    console.log(`written ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const z of sized) if (z.ds.isInitialized) await z.ds.destroy();
    if (admin.isInitialized) await admin.destroy();
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
