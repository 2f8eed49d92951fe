import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
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

/** p50/p95 of `fn` over RUNS runs (after 5 warm-up runs). */
async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: Number(percentile(ms, 50).toFixed(2)), p95: Number(percentile(ms, 95).toFixed(2)) };
}

/**
 * The document list at 100k and 1M documents, as a finance staff member (who sees about a
 * third): the first page, a deep keyset page; and the list as it was before issue 14 (an
 * unbounded count beside the page, on the plain index) measured in the same run.
 */
export async function runListBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-list-'));
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), new JsonLogger('error'), { persistent: false });
  const ds = new DataSource({ type: 'postgres', url: pg.url, extra: { max: 4 } });
  try {
    await migrate(pg.url);
    await ds.initialize();
    const repo = new DocumentsRepository(ds);
    const access = abilityToSql(buildAbility(ALICE), 'read', 'Document', DOCUMENT_SQL_FIELDS);
    const results = [];
    for (const size of SIZES) {
      process.stderr.write(`list bench: seeding ${size} documents...\n`);
      await seed(ds, size);
      const cpu0 = process.cpuUsage();
      const first = await time(() => repo.list(access, {}, 1, PAGE_SIZE));
      // Half way down with the keyset cursor: what page 10,000 costs without OFFSET.
      const middle = (await ds.query(`SELECT created_at::text AS "createdAt", id FROM documents ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`, [Math.floor(size / 2)])) as Array<{ createdAt: string; id: string }>;
      const deep = await time(() => repo.list(access, {}, 1, PAGE_SIZE, middle[0]));
      // The list before issue 14: an unbounded count beside the page, on the plain (created_at, id) index.
      await ds.query(`CREATE INDEX ix_documents_created ON documents (created_at DESC, id DESC)`);
      await ds.query(`DROP INDEX ix_documents_list`);
      const unboundedCount = () => ds.query(`SELECT count(*)::int AS n FROM documents d WHERE ${access.sql}`, access.params);
      const before = await time(() => Promise.all([unboundedCount(), repo.list(access, {}, 1, PAGE_SIZE)]));
      const unbounded = await time(unboundedCount);
      await ds.query(`CREATE INDEX ix_documents_list ON documents (created_at DESC, id DESC) INCLUDE (department, classification, personal_data, owner_id)`);
      await ds.query(`DROP INDEX ix_documents_created`);
      await ds.query('VACUUM ANALYZE documents');
      const [{ visible }] = (await ds.query(`SELECT count(*)::int AS visible FROM documents d WHERE ${access.sql}`, access.params)) as Array<{ visible: number }>;
      const cpu = process.cpuUsage(cpu0);
      results.push({
        documents: size,
        visible,
        firstPageMs: first,
        firstPageBeforeMs: before,
        keysetPageHalfwayMs: deep,
        unboundedCountMs: unbounded,
        clientCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
        loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      });
    }
    const out = { benchmark: 'list', at: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, pageSize: PAGE_SIZE, runs: RUNS, results, target: { firstPageP95Ms: 20, slowerThan100kAtMost: 0.2 } };
    console.table(
      results.map((r) => ({
        documents: r.documents,
        visible: r.visible,
        'first page p50/p95 ms': `${r.firstPageMs.p50} / ${r.firstPageMs.p95}`,
        'before: first page p50/p95 ms': `${r.firstPageBeforeMs.p50} / ${r.firstPageBeforeMs.p95}`,
        'keyset page half way p95 ms': r.keysetPageHalfwayMs.p95,
        'old unbounded count p95 ms': r.unboundedCountMs.p95,
        'load average': r.loadAverage.join(' '),
      })),
    );
    const file = path.resolve('bench/results/list.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(out, null, 2) + '\n');
    console.log(`written ${path.relative(process.cwd(), file)}`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
