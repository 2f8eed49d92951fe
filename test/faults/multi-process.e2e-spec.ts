import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { verifyCertificateText } from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import { startTestApp } from '../support/app';
import { ADMIN, createUser, login, TestUser } from '../support/auth';
import { auditEvents, sql } from '../support/documents';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { call, ManualUpload, until } from './support/client';
import { ApiChild, kill9, startApi, tempKeysDir } from './support/processes';

const ROOT = path.resolve(__dirname, '../..');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface WorkerChild {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** One worker process (apps/worker/src/main.ts, compiled on the fly like jest) on the test's database, bucket and keys. */
function startWorker(env: Record<string, string>): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/swc-register.cjs'), path.join(ROOT, 'apps/worker/src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${output.slice(-2000)}`)), 60_000);
    const collect = (c: Buffer) => {
      output += c.toString('utf8');
      if (output.includes('"worker started"')) {
        clearTimeout(timer);
        resolve({ child, exited, output: () => output });
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited early with ${code}: ${output.slice(-2000)}`));
    });
  });
}

/**
 * Issues 10 and 14: two api processes and two worker processes on one PostgreSQL and one S3,
 * under upload and read load. One worker is held mid-disposition (a test-only fault hook
 * that signals through a file), then killed with SIGKILL; the other takes the batch over
 * when the lease expires. Each record is destroyed exactly once, one certificate lists each
 * once, the chain verifies, and every acknowledged upload still downloads intact.
 */
describe('two apis and two workers, one worker killed mid-disposition', () => {
  jest.setTimeout(120_000);
  const infra = testInfra();
  const s3 = { ...infra.s3, bucket: uniqueName('kura') };
  let databaseUrl: string;
  let keysDir: string;
  const apis: ApiChild[] = [];
  const workers: WorkerChild[] = [];
  let signalFile: string;

  const baseEnv = () => ({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    RUN_WORKER_IN_PROCESS: 'false',
    DATABASE_URL: databaseUrl,
    S3_ENDPOINT: `http://${s3.endPoint}:${s3.port}`,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: s3.bucket,
    KEYS_DIR: keysDir,
    VAR_DIR: path.join(keysDir, 'var'),
    DISPOSITION_POLL_MS: '200',
    DISPOSITION_LEASE_SECONDS: '3',
  });

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    keysDir = await tempKeysDir();
    signalFile = path.join(keysDir, `fault-${randomUUID()}.json`);
    // The first api migrates, bootstraps the administrator and writes the keys; then the rest start at once.
    apis.push(await startApi({ databaseUrl, s3, keysDir, env: { DISPOSITION_POLL_MS: '200', LOGIN_RATE_LIMIT_PER_ADDRESS: '1000000', LOGIN_RATE_LIMIT_PER_USERNAME: '1000000' } }));
    const [second, first] = await Promise.all([
      startApi({ databaseUrl, s3, keysDir, env: { DISPOSITION_POLL_MS: '200', LOGIN_RATE_LIMIT_PER_ADDRESS: '1000000', LOGIN_RATE_LIMIT_PER_USERNAME: '1000000' } }),
      // Worker A: the fault hook holds it after it has destroyed 2 records of a batch.
      startWorker({ ...baseEnv(), KURA_FAULT_DISPOSITION_PAUSE_AFTER: '2', KURA_FAULT_DISPOSITION_PAUSE_FILE: signalFile }),
    ]);
    apis.push(second);
    workers.push(first);
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    for (const a of apis) if (a.child.exitCode === null && a.child.signalCode === null) await kill9(a);
    await Promise.all(workers.map((w) => w.exited));
  });

  it('destroys each record exactly once, issues one certificate, keeps the chain valid and every acknowledged upload intact', async () => {
    const [api1, api2] = apis.map((a) => a.url);
    // Privileged roles need a second administrator's approval, which the operator's service gives: an in-process
    // instance on the same database does the user set-up only, and is closed before the load starts.
    const setup = await startTestApp({ databaseUrl, s3, keysDir });
    const admin = await login(setup.http, ADMIN.username, ADMIN.password);
    const officerA: TestUser = await createUser(setup.http, admin, { username: 'officer-a', roles: ['records_officer'], clearance: 'SECRET' });
    const officerB: TestUser = await createUser(setup.http, admin, { username: 'officer-b', roles: ['records_officer'], clearance: 'SECRET' });
    const clerk: TestUser = await createUser(setup.http, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['hr'] });
    const auditor: TestUser = await createUser(setup.http, admin, { roles: ['auditor'] });
    await setup.close();

    // A series due at creation: its documents can be proposed at once.
    const series = await call(api1, 'POST', '/api/v1/retention/series', {
      token: officerA.token,
      json: { code: 'SLIP-0', name: '伝票', years: 0, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: 'internal rule 7' },
    });
    expect(series.status).toBe(201);
    const seriesId = String(series.json().id);

    const upload = async (base: string, content: Buffer, extra: Array<[string, string]> = []) => {
      const u = new ManualUpload(base, '/api/v1/documents', clerk.token)
        .fields([['title', 'Expense slip'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'hr'], ...extra])
        .fileHeader('slip.bin')
        .send(content)
        .endFile();
      return u.finish();
    };

    // The records to destroy, through both apis; one gets an orphan object under its prefix (an upload that never committed).
    const doomed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await upload(i % 2 ? api2 : api1, randomBytes(8_000 + i), [['seriesId', seriesId]]);
      expect(res.status).toBe(201);
      doomed.push(String(res.json().id));
    }
    const store = new ObjectStore(s3);
    const orphan = `documents/${doomed[3]}/${randomUUID()}`;
    await store.put(orphan, Readable.from([randomBytes(4096)]));

    // Load: uploads and reads through both apis for the whole disposition, every acknowledged write recorded.
    const acknowledged: Array<{ id: string; sha256: string }> = [];
    const failures: string[] = [];
    let loading = true;
    const client = async (n: number) => {
      for (let i = 0; loading; i++) {
        const base = (n + i) % 2 ? api2 : api1;
        const content = randomBytes(4_096 + ((n * 977 + i * 131) % 60_000));
        const res = await upload(base, content).catch((err: Error) => err);
        if (res instanceof Error) failures.push(`upload: ${res.message}`);
        else if (res.status === 201) acknowledged.push({ id: String(res.json().id), sha256: sha(content) });
        else failures.push(`upload ${res.status}: ${String(res.body ?? '').slice(0, 200)}`);
        const read = acknowledged[(n + i) % acknowledged.length];
        if (read) {
          const got = await call(base, 'GET', `/api/v1/documents/${read.id}/content`, { token: clerk.token });
          if (got.status !== 200 || sha(got.body) !== read.sha256) failures.push(`read ${got.status}`);
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(client));

    const proposal = await call(api1, 'POST', '/api/v1/disposition/batches', { token: officerA.token, json: { documentIds: doomed } });
    expect(proposal.status).toBe(201);
    const batchId = String(proposal.json().id);
    const approved = await call(api2, 'POST', `/api/v1/disposition/batches/${batchId}/approve`, { token: officerB.token, json: {}, headers: { prefer: 'respond-async' } });
    expect(approved.status).toBe(202);
    expect(approved.json()).toMatchObject({ state: 'executing', progress: { total: 6, destroyed: 0 } });

    // Worker A took the batch and is held after two records: it signals through the file.
    await until(async () => (await readFile(signalFile, 'utf8').catch(() => '')).length > 0, 30_000, 'worker A to pause mid-batch').catch((err: Error) => {
      loading = false;
      throw new Error(`${err.message}; worker A said: ${workers[0].output().slice(-3000)}`);
    });
    const signal = JSON.parse(await readFile(signalFile, 'utf8')) as { pid: number; batchId: string; destroyed: number };
    expect(signal).toEqual({ pid: workers[0].child.pid, batchId, destroyed: 2 });
    const midway = await call(api1, 'GET', `/api/v1/disposition/batches/${batchId}`, { token: officerB.token });
    expect(midway.json()).toMatchObject({ state: 'executing', certificate: null, progress: { total: 6, destroyed: 2, remaining: 4, worker: 'running' } });

    // Worker B starts while A is alive and holds the lease: B must not take the batch.
    workers.push(await startWorker(baseEnv()));
    const [lease] = await sql<{ lease_owner: string }>(databaseUrl, `SELECT lease_owner FROM disposition_batches WHERE id = $1`, [batchId]);
    expect(lease.lease_owner).toContain(`:${workers[0].child.pid}:`);

    // kill -9 of A mid-batch; B takes over once A's lease expires and finishes.
    workers[0].child.kill('SIGKILL');
    expect(await workers[0].exited).toBe(-1);
    await until(
      async () => (await call(api2, 'GET', `/api/v1/disposition/batches/${batchId}`, { token: officerB.token })).json().state === 'completed',
      60_000,
      'worker B to finish the batch',
    );
    const [after] = await sql<{ lease_owner: string | null }>(databaseUrl, `SELECT lease_owner FROM disposition_batches WHERE id = $1`, [batchId]);
    expect(after.lease_owner).toBeNull();
    expect(workers[1].output()).toContain('"disposition batch executed"');

    loading = false;
    await load;
    expect(failures).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);

    // Each record destroyed exactly once (audited once, erased once), every object under its prefix gone, orphans included.
    for (const id of doomed) {
      expect(await auditEvents(databaseUrl, `action = 'document.destroy' AND target_id = '${id}'`)).toEqual([
        expect.objectContaining({ outcome: 'allowed', actor_id: officerB.id, details: expect.objectContaining({ authorizer: 'officer-b', batchId }) }),
      ]);
      expect(await auditEvents(databaseUrl, `action = 'document.crypto_erase' AND target_id = '${id}'`)).toHaveLength(1);
      const left: string[] = [];
      for await (const o of store.list(`documents/${id}/`)) left.push(o.key);
      expect(left).toEqual([]);
    }
    expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM disposition_certificates WHERE batch_id = $1`, [batchId])).toEqual([{ n: 1 }]);
    expect(await auditEvents(databaseUrl, `action = 'disposition.complete' AND target_id = '${batchId}'`)).toHaveLength(1);

    // One certificate, each record listed once, the orphan counted, signed by the service key.
    const cert = await call(api1, 'GET', `/api/v1/disposition/batches/${batchId}/certificate`, { token: officerB.token, headers: { accept: 'application/json' } });
    expect(cert.status).toBe(200);
    const key = await call(api2, 'GET', '/api/v1/keys/public');
    const text = cert.body.toString('utf8');
    expect(verifyCertificateText(text, String(key.json().publicKeyPem), { strict: true })).toMatchObject({ valid: true, records: 6 });
    const records = (JSON.parse(text) as { certificate: { records: Array<{ recordId: string; storagePrefix: { otherObjectsDeleted: number } }> } }).certificate.records;
    expect(records.map((r) => r.recordId).sort()).toEqual([...doomed].sort());
    expect(records.find((r) => r.recordId === doomed[3])!.storagePrefix.otherObjectsDeleted).toBe(1);

    // The one audit chain verifies, whichever process wrote each event.
    const verify = await call(api2, 'GET', '/api/v1/audit/verify', { token: auditor.token });
    expect(verify.status).toBe(200);
    expect(verify.json()).toMatchObject({ valid: true, firstInvalidSeq: null });

    // Every acknowledged upload still downloads intact, through either api.
    for (const [i, a] of acknowledged.entries()) {
      const got = await call(i % 2 ? api1 : api2, 'GET', `/api/v1/documents/${a.id}/content`, { token: clerk.token });
      expect({ id: a.id, status: got.status, sha256: sha(got.body) }).toEqual({ id: a.id, status: 200, sha256: a.sha256 });
    }
  });
});
