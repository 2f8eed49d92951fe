import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import {
  AuditCheckpointEntity,
  AuditCheckpointRepository,
  AuditCheckpointService,
  AuditEventEntity,
  AuditRepository,
  AuditSequencer,
  AuditService,
  AuditVerifier,
  eventHash,
  HASHED_COLUMNS,
  HashedEvent,
  NewAuditEvent,
} from '@kura/audit';
import { canonicalJson, JsonLogger } from '@kura/common';
import { copyOut, migrate } from '@kura/database';
import { startEmbeddedPostgres } from '@kura/embedded';
import { Signer } from '@kura/signing';
import { postgresCpuSeconds } from './proc-cpu';

const WRITERS = Number(process.env.BENCH_AUDIT_WRITERS ?? 16);
const APPEND_SECONDS = Number(process.env.BENCH_AUDIT_APPEND_SECONDS ?? 10);
const CHAIN_EVENTS = Number(process.env.BENCH_AUDIT_CHAIN_EVENTS ?? 1_000_000);
const INSERT_BATCH = 10_000;
const VERIFY_TARGET = 300_000;
const INCREMENTAL_EVENTS = Number(process.env.BENCH_AUDIT_INCREMENTAL_EVENTS ?? 10_000);
const VERIFY_RUNS = Number(process.env.BENCH_AUDIT_VERIFY_RUNS ?? 3);

/** Seconds to stream every event's verified columns out of PostgreSQL, doing nothing with them. */
async function timeCopyOnly(ds: DataSource): Promise<number> {
  const runner = ds.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  try {
    let messages = 0;
    const t0 = process.hrtime.bigint();
    await copyOut(client, `COPY (SELECT ${HASHED_COLUMNS.join(', ')}, hash FROM audit_events ORDER BY seq) TO STDOUT (FORMAT binary)`, () => {
      messages++;
    });
    if (messages === 0) throw new Error('no rows streamed');
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await runner.release();
  }
}

/**
 * The design before issue 14, kept here only to measure against: the append takes the chain
 * head row lock and holds it until the business transaction commits.
 */
async function lockingAppend(manager: EntityManager, event: NewAuditEvent): Promise<void> {
  const [head] = (await manager.query(
    `SELECT seq::text AS seq, hash, date_trunc('milliseconds', clock_timestamp()) AS at FROM audit_chain_head WHERE id = 1 FOR UPDATE`,
  )) as Array<{ seq: string; hash: string; at: Date }>;
  const link: HashedEvent = { ...event, seq: (BigInt(head.seq) + 1n).toString(), at: head.at, prevHash: head.hash };
  const hash = eventHash(link);
  await manager.query(
    `INSERT INTO audit_events (seq, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address, user_agent, request_id, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [link.seq, link.at, link.actorId, link.actorName, link.action, link.targetType, link.targetId, link.outcome, link.clientAddress, link.userAgent, link.requestId, canonicalJson(link.details), link.prevHash, hash],
  );
  await manager.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [link.seq, hash]);
}

/** CPU seconds used so far by this process and by the PostgreSQL processes of `dataDir`. */
function cpuSeconds(dataDir: string): { node: number; postgres: number } {
  const postgres = postgresCpuSeconds(dataDir);
  // Read after the scan, and the scan is cheap next to a run, but the start's scan must not count.
  const self = process.cpuUsage();
  return { node: (self.user + self.system) / 1e6, postgres };
}

interface AppendFigures {
  design: string;
  writers: number;
  seconds: number;
  events: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  cpuSeconds: { node: number; postgres: number };
  loadAverage: number[];
  chainWindowMs?: number;
}

/** WRITERS concurrent writers, each appending in its own transaction for APPEND_SECONDS. */
async function measureAppends(design: string, dataDir: string, append: (w: number, i: number) => Promise<unknown>): Promise<AppendFigures> {
  process.stderr.write(`audit bench: ${WRITERS} writers appending for ${APPEND_SECONDS}s (${design})...\n`);
  const latencies: number[] = [];
  const cpu0 = cpuSeconds(dataDir);
  const scanned = process.cpuUsage();
  const deadline = Date.now() + APPEND_SECONDS * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const t0 = process.hrtime.bigint();
        await append(w, i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const self = process.cpuUsage(scanned);
  const cpu1 = cpuSeconds(dataDir);
  latencies.sort((a, b) => a - b);
  const ms = (p: number) => Number(percentile(latencies, p).toFixed(2));
  return {
    design,
    writers: WRITERS,
    seconds: Number(seconds.toFixed(2)),
    events: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    latencyMs: { p50: ms(50), p95: ms(95), p99: ms(99), max: Number((latencies[latencies.length - 1] ?? 0).toFixed(2)) },
    cpuSeconds: { node: Number(((self.user + self.system) / 1e6).toFixed(2)), postgres: Number((cpu1.postgres - cpu0.postgres).toFixed(2)) },
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

/**
 * Appends `events` valid links to the chain quickly: hashes computed here, multi-row inserts.
 * Returns the new head's sequence number.
 */
export async function extendChain(ds: DataSource, events: number): Promise<number> {
  const [head] = (await ds.query(`SELECT seq::text AS seq, hash FROM audit_events ORDER BY audit_events.seq DESC LIMIT 1`)) as Array<{ seq: string; hash: string }>;
  let prev = head.hash;
  let seq = Number(head.seq);
  const base = Date.now();
  for (let done = 0; done < events; done += INSERT_BATCH) {
    const n = Math.min(INSERT_BATCH, events - done);
    const cols: string[][] = Array.from({ length: 9 }, () => []);
    const details: string[] = [];
    for (let k = 0; k < n; k++) {
      seq++;
      const at = new Date(base + seq).toISOString();
      // Half the events carry small details, as real ones (version numbers, reasons) do.
      // Stored as the appender stores it: the canonical text.
      const det = seq % 2 === 0 ? {} : { version: seq % 7, reason: 'périodique 定期', sha256: 'ab'.repeat(8) };
      const e = {
        seq: String(seq),
        at: new Date(at),
        actorId: '00000000-0000-4000-8000-000000000002',
        actorName: 'bulk',
        action: seq % 3 === 0 ? 'document.version' : 'document.read',
        targetType: 'Document',
        targetId: `doc-${seq % 1000}`,
        outcome: 'allowed',
        clientAddress: '127.0.0.1',
        userAgent: 'kura-bench/1',
        requestId: `req-${seq}`,
        details: det,
        prevHash: prev,
      };
      const hash = eventHash(e);
      cols[0].push(e.seq);
      cols[1].push(at);
      cols[2].push(e.action);
      cols[3].push(e.targetId);
      cols[4].push(e.requestId);
      cols[5].push(prev);
      cols[6].push(hash);
      cols[7].push(e.actorName);
      cols[8].push(e.actorId);
      details.push(canonicalJson(det));
      prev = hash;
    }
    await ds.query(
      `INSERT INTO audit_events (seq, at, action, target_id, request_id, prev_hash, hash, actor_name, actor_id, details,
                                 target_type, outcome, client_address, user_agent)
       SELECT s, a, ac, ti, ri, ph, h, an, ai::uuid, d::json, 'Document', 'allowed', '127.0.0.1', 'kura-bench/1'
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[]) AS u(s, a, ac, ti, ri, ph, h, an, ai, d)`,
      [...cols, details],
    );
  }
  await ds.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [seq, prev]);
  await ds.query('VACUUM ANALYZE audit_events');
  return seq;
}

/**
 * Audit trail throughput on a real (embedded) PostgreSQL: audited appends per second from
 * concurrent writers, with the old design (chain-head lock held to commit) and the new one
 * (recorded in the transaction, chained after it by the sequencer) in the same run; then the
 * speed of verify() over a chain of CHAIN_EVENTS events, and of an incremental verification.
 */
export async function runAuditBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-audit-'));
  const logger = new JsonLogger('error');
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), logger, { persistent: false });
  const ds = new DataSource({ type: 'postgres', url: pg.url, entities: [AuditEventEntity, AuditCheckpointEntity], extra: { max: WRITERS + 4 } });
  try {
    await migrate(pg.url);
    await ds.initialize();
    const signer = await Signer.load(path.join(dir, 'keys'), { generateIfMissing: true });
    const events = new AuditRepository(ds);
    const sequencer = new AuditSequencer(ds, events);
    sequencer.start();
    const audit = new AuditService(events, sequencer);
    const verifier = new AuditVerifier(ds, signer);
    const checkpoints = new AuditCheckpointService(new AuditCheckpointRepository(ds), verifier, signer);
    const dataDir = path.join(dir, 'postgres');
    const event = (w: number, i: number) => ({
      actor: { id: '00000000-0000-4000-8000-000000000001', username: `writer-${w}` },
      action: 'document.read',
      targetType: 'Document',
      targetId: `doc-${w}-${i}`,
      outcome: 'allowed' as const,
      details: { version: i, via: 'bench' },
    });

    // 1. Sustained audited appends from concurrent writers (each append its own transaction),
    // first with the chain-head lock held to commit (the old design), then recorded and chained after.
    const locking = await measureAppends('chain-head lock held to commit (before issue 14)', dataDir, (w, i) =>
      ds.transaction((m) =>
        lockingAppend(m, {
          actorId: '00000000-0000-4000-8000-000000000001', actorName: `writer-${w}`, action: 'document.read', targetType: 'Document', targetId: `doc-${w}-${i}`,
          outcome: 'allowed', clientAddress: null, userAgent: null, requestId: null, details: { version: i, via: 'bench' },
        }),
      ),
    );
    const sequenced = await measureAppends('recorded in the transaction, chained after it', dataDir, (w, i) => audit.record(event(w, i)));
    sequenced.chainWindowMs = sequencer.stats.maxLagMs;
    const sequencerStats = { ...sequencer.stats, eventsPerBatch: Number((sequencer.stats.events / Math.max(1, sequencer.stats.batches)).toFixed(1)) };
    await sequencer.stop();

    // 2. Extend the chain to CHAIN_EVENTS valid links quickly.
    process.stderr.write(`audit bench: bulk-inserting ${CHAIN_EVENTS} chained events...\n`);
    const insertStarted = process.hrtime.bigint();
    const seq = await extendChain(ds, CHAIN_EVENTS);
    const insertSeconds = Number(process.hrtime.bigint() - insertStarted) / 1e9;

    // 3. Verification speed over the whole chain (a warm-up run first, as an auditor's second run would be).
    process.stderr.write(`audit bench: verifying ${seq} events...\n`);
    const checkpointStarted = process.hrtime.bigint();
    await checkpoints.create();
    const checkpointSeconds = Number(process.hrtime.bigint() - checkpointStarted) / 1e9;
    // Each verify run is paired with a baseline: the same COPY of the same rows, only counted,
    // so the ratio says how much of the time is hashing and checking rather than the database.
    const runs: Array<{ seconds: number; baselineSeconds: number; checked: number; clientCpuMicrosPerEvent: number }> = [];
    for (let r = 0; r < VERIFY_RUNS; r++) {
      const baselineSeconds = await timeCopyOnly(ds);
      const t0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      const result = await verifier.verify();
      const cpu = process.cpuUsage(cpu0);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (!result.valid) throw new Error(`bench chain is invalid: ${result.reason}`);
      // This process's CPU (hashing, checking); the rest of the wall time is PostgreSQL and waiting for a core.
      runs.push({ seconds, baselineSeconds, checked: result.checked, clientCpuMicrosPerEvent: Number(((cpu.user + cpu.system) / result.checked).toFixed(2)) });
    }
    // 4. Incremental verification: from the checkpoint the last verification covered, over the new events only.
    process.stderr.write(`audit bench: incremental verification over ${INCREMENTAL_EVENTS} new events...\n`);
    await extendChain(ds, INCREMENTAL_EVENTS);
    const incStarted = process.hrtime.bigint();
    const incremental = await verifier.verifyIncremental();
    const incSeconds = Number(process.hrtime.bigint() - incStarted) / 1e9;
    if (!incremental.valid) throw new Error(`bench chain is invalid: ${incremental.reason}`);
    const bySpeed = [...runs].sort((a, b) => a.seconds - b.seconds);
    const median = bySpeed[Math.floor(bySpeed.length / 2)];
    const verifyPerSecond = Math.round(median.checked / median.seconds);

    const results = {
      benchmark: 'audit',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverage: os.loadavg(), node: process.version },
      append: { before: locking, after: sequenced, sequencer: sequencerStats, target: { perSecond: 2_000, p99Ms: 50, chainWindowMs: 1_000 } },
      bulkInsert: { events: CHAIN_EVENTS, seconds: Number(insertSeconds.toFixed(2)) },
      checkpoint: { seconds: Number(checkpointSeconds.toFixed(2)), note: 'first checkpoint verifies the whole chain before signing' },
      verify: {
        events: median.checked,
        runs: runs.map((r) => ({
          seconds: Number(r.seconds.toFixed(2)),
          perSecond: Math.round(r.checked / r.seconds),
          copyOnlySeconds: Number(r.baselineSeconds.toFixed(2)),
          ratioToCopyOnly: Number((r.baselineSeconds / r.seconds).toFixed(2)),
          clientCpuMicrosPerEvent: r.clientCpuMicrosPerEvent,
        })),
        perSecond: verifyPerSecond,
        bestPerSecond: Math.round(bySpeed[0].checked / bySpeed[0].seconds),
        note: 'perSecond is the median run; copyOnly streams the same rows without checking them',
        target: VERIFY_TARGET,
        meetsTarget: verifyPerSecond >= VERIFY_TARGET,
        incremental: {
          from: incremental.from,
          events: incremental.checked,
          seconds: Number(incSeconds.toFixed(3)),
          perSecond: Math.round(incremental.checked / incSeconds),
          note: 'verifyIncremental() starts at the newest checkpoint the previous verification covered',
          loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
        },
      },
    };
    console.table([
      ...[locking, sequenced].flatMap((r) => [
        { metric: `${r.design}: audited appends/s (${r.writers} writers, ${r.seconds}s)`, value: r.perSecond },
        { metric: `${r.design}: latency p50 / p99 (ms)`, value: `${r.latencyMs.p50} / ${r.latencyMs.p99}` },
        { metric: `${r.design}: CPU s node / postgres; load average`, value: `${r.cpuSeconds.node} / ${r.cpuSeconds.postgres}; ${r.loadAverage.join(' ')}` },
      ]),
      { metric: 'chain window: oldest event age when chained (ms; target <= 1000)', value: sequenced.chainWindowMs },
      { metric: 'sequencer: events per batch (mean)', value: sequencerStats.eventsPerBatch },
      { metric: `bulk insert of ${CHAIN_EVENTS} chained events (s)`, value: results.bulkInsert.seconds },
      { metric: 'checkpoint incl. verifying the chain (s)', value: results.checkpoint.seconds },
      { metric: `verify: events checked`, value: median.checked },
      { metric: `verify: events/s (median of ${runs.length}; target ${VERIFY_TARGET})`, value: verifyPerSecond },
      { metric: 'verify: best run events/s', value: results.verify.bestPerSecond },
      { metric: 'verify speed / COPY-only speed (median run)', value: Number((median.baselineSeconds / median.seconds).toFixed(2)) },
      { metric: `incremental verify from checkpoint ${incremental.from}: events / seconds`, value: `${incremental.checked} / ${incSeconds.toFixed(3)}` },
    ]);
    const out = path.resolve('bench/results/audit.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`written ${path.relative(process.cwd(), out)}`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
