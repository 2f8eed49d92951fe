import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { JsonLogger } from '@kura/common';
import { startEmbeddedPostgres } from '@kura/embedded';
import { multipart } from '../support/multipart';
import { request, startApi, startS3Process } from './storage.bench';

const ADMIN_PASSWORD = 'Bench-Admin-Pass-1';
const CLIENTS = Number(process.env.KURA_LOAD_CLIENTS ?? 50);
const SECONDS = Number(process.env.KURA_LOAD_SECONDS ?? 60);
/** The mix of issue 10's baseline run: 4–64 KB uploads, downloads and lists. */
const MIX: Array<[Op, number]> = [
  ['upload', 0.3],
  ['download', 0.4],
  ['list', 0.3],
];
type Op = 'upload' | 'download' | 'list';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 4 });

function pick(): Op {
  let r = Math.random();
  for (const [op, w] of MIX) if ((r -= w) < 0) return op;
  return 'list';
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** Admin → a staff user → its token; and an auditor for the chain check. */
async function users(base: string): Promise<{ staff: string; auditor: string }> {
  const json = (r: { body: Buffer }) => JSON.parse(r.body.toString()) as Record<string, unknown>;
  const login = async (username: string, password: string): Promise<string> => {
    const r = await request(base, 'POST', '/api/v1/auth/login', { json: { username, password } });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
    const body = json(r) as { accessToken: string; mustChangePassword: boolean };
    if (!body.mustChangePassword) return body.accessToken;
    const next = `${password}-changed`;
    const c = await request(base, 'POST', '/api/v1/auth/password', { token: body.accessToken, json: { currentPassword: password, newPassword: next } });
    if (c.status >= 300) throw new Error(`password change ${username}: ${c.status}`);
    return login(username, next);
  };
  const admin = await login('admin', ADMIN_PASSWORD);
  const make = async (username: string, roles: string[]) => {
    const password = `Load-${randomBytes(9).toString('base64url')}`;
    const r = await request(base, 'POST', '/api/v1/users', { token: admin, json: { username, password, displayName: username, roles, clearance: 'SECRET', departments: ['load'], designations: [] } });
    if (r.status !== 201) throw new Error(`create ${username}: ${r.status} ${r.body.toString()}`);
    return login(username, password);
  };
  return { staff: await make('load-staff', ['staff']), auditor: await make('load-auditor', ['auditor']) };
}

function call(base: string, method: string, url: string, token: string, body?: { contentType: string; data: Buffer }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body) Object.assign(headers, { 'content-type': body.contentType, 'content-length': String(body.data.length) });
    const req = http.request(new URL(url, base), { method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body?.data);
  });
}

async function multipartBody(content: Buffer, title: string): Promise<{ contentType: string; data: Buffer }> {
  const m = multipart([['title', title], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'load']], { filename: 'load.bin', content });
  const parts: Buffer[] = [];
  for await (const c of m.body) parts.push(c as Buffer);
  return { contentType: m.contentType, data: Buffer.concat(parts) };
}

/**
 * `npm run bench -- load`: CLIENTS clients for SECONDS seconds on a mixed workload (4–64 KB
 * uploads, downloads of acknowledged documents, list pages) against one api process on
 * embedded PostgreSQL and a separate s3rver. Prints throughput and p50/p99 per operation,
 * then downloads every acknowledged write and compares its SHA-256 (Jepsen-style: nothing
 * acknowledged may be lost) and verifies the audit chain.
 */
export async function runLoadBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bench-load-'));
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), new JsonLogger('error'), { persistent: false });
  const s3server = await startS3Process(path.join(dir, 'objects'));
  let api: { child: ChildProcess; base: string } | undefined;
  try {
    api = await startApi(dir, pg.url, { ...s3server.settings, bucket: 'kura-load' });
    const { base } = api;
    const { staff, auditor } = await users(base);
    const acknowledged: Array<{ id: string; sha256: string }> = [];
    const samples: Record<Op, number[]> = { upload: [], download: [], list: [] };
    const errors: Record<string, number> = {};
    const fail = (what: string) => (errors[what] = (errors[what] ?? 0) + 1);

    const upload = async () => {
      const content = randomBytes(4096 + Math.floor(Math.random() * 60 * 1024));
      const started = performance.now();
      const r = await call(base, 'POST', '/api/v1/documents', staff, await multipartBody(content, `load ${acknowledged.length}`));
      samples.upload.push(performance.now() - started);
      if (r.status !== 201) return fail(`upload ${r.status}`);
      acknowledged.push({ id: String((JSON.parse(r.body.toString()) as { id: string }).id), sha256: sha(content) });
    };
    for (let i = 0; i < 20; i++) await upload();
    samples.upload = [];

    const deadline = Date.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < deadline) {
          const op = pick();
          try {
            if (op === 'upload') await upload();
            else if (op === 'download') {
              const target = acknowledged[Math.floor(Math.random() * acknowledged.length)];
              const t0 = performance.now();
              const r = await call(base, 'GET', `/api/v1/documents/${target.id}/content`, staff);
              samples.download.push(performance.now() - t0);
              if (r.status !== 200 || sha(r.body) !== target.sha256) fail(`download ${r.status}`);
            } else {
              const t0 = performance.now();
              const r = await call(base, 'GET', `/api/v1/documents?page=${1 + Math.floor(Math.random() * 5)}&pageSize=20`, staff);
              samples.list.push(performance.now() - t0);
              if (r.status !== 200) fail(`list ${r.status}`);
            }
          } catch (err) {
            fail(`${op} ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;

    // Every acknowledged write must be there, byte for byte.
    let verified = 0;
    const lost: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 8) {
      await Promise.all(
        acknowledged.slice(i, i + 8).map(async (a) => {
          const r = await call(base, 'GET', `/api/v1/documents/${a.id}/content`, staff);
          if (r.status === 200 && sha(r.body) === a.sha256) verified++;
          else lost.push(a.id);
        }),
      );
    }
    const chain = JSON.parse((await call(base, 'GET', '/api/v1/audit/verify', auditor)).body.toString()) as { valid: boolean; checked: number };

    const total = samples.upload.length + samples.download.length + samples.list.length;
    const rows = (Object.keys(samples) as Op[]).map((op) => {
      const sorted = [...samples[op]].sort((a, b) => a - b);
      return { op, count: sorted.length, perSecond: sorted.length / elapsed, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    });
    const result = { at: new Date().toISOString(), host: { cpus: os.cpus().length, node: process.version, loadavg: os.loadavg() }, clients: CLIENTS, seconds: elapsed, requestsPerSecond: total / elapsed, rows, errors, acknowledged: acknowledged.length, verified, lost, chain };
    console.log(
      [
        `load benchmark: ${CLIENTS} clients × ${elapsed.toFixed(0)} s, mixed 4–64 KB uploads / downloads / lists (one api process, embedded PostgreSQL, s3rver)`,
        `throughput ${result.requestsPerSecond.toFixed(1)} requests/s (load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs)`,
        `${'operation'.padEnd(10)}${'count'.padStart(8)}${'per s'.padStart(9)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
        ...rows.map((r) => `${r.op.padEnd(10)}${String(r.count).padStart(8)}${r.perSecond.toFixed(1).padStart(9)}${r.p50Ms.toFixed(1).padStart(10)}${r.p99Ms.toFixed(1).padStart(10)}`),
        `errors: ${JSON.stringify(errors)}`,
        `acknowledged writes verified: ${verified} of ${acknowledged.length}${lost.length ? ` — LOST: ${lost.join(', ')}` : ''}`,
        `audit chain: ${chain.valid ? 'valid' : 'INVALID'} (${chain.checked} events)`,
      ].join('\n'),
    );
    const out = path.resolve(__dirname, '../../../bench/results');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'load.json'), JSON.stringify(result, null, 2) + '\n');
    if (lost.length || !chain.valid) throw new Error('acknowledged writes were lost or the chain is broken');
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
}
