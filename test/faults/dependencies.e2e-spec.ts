import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditVerifier } from '@kura/audit';
import { ContentReconciler } from '@kura/documents';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin, TestUser } from '../support/auth';
import { auditEvents, objectKeys, sql } from '../support/documents';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { Answer, call, ManualUpload, until } from './support/client';
import { PgCommitCutter } from './support/pg-proxy';
import { alive, armS3, crashPostgres, S3Child, s3TrapFired, startPostgres, startS3, trapFiredAt } from './support/processes';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FIELDS: Array<[string, string]> = [['title', 'Board minutes'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'general']];

function expect503(res: Answer): void {
  expect(res.status).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.json()).toMatchObject({ status: 503, type: 'urn:kura:problem:unavailable' });
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

/** Issue 10 findings 4, 5, 6: the object store frozen or killed, PostgreSQL killed. Real processes. */
describe('dependency faults', () => {
  describe('the object store', () => {
    let s3: S3Child;
    let s3Dir: string;
    let t: TestApp;
    let base: string;
    let clerk: TestUser;
    let existing: { id: string; sha256: string };

    beforeAll(async () => {
      s3Dir = await mkdtemp(path.join(os.tmpdir(), 'kura-s3-'));
      s3 = await startS3(s3Dir);
      t = await startTestApp({
        s3: { ...s3.settings, bucket: uniqueName('kura') },
        env: { S3_CONNECT_TIMEOUT_MS: '1000', S3_IDLE_TIMEOUT_MS: '3000', S3_REQUEST_TIMEOUT_MS: '4000' },
      });
      await t.app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
      clerk = await createUser(t.http, await loginAdmin(t.http), { roles: ['staff'] });
      const content = randomBytes(3 * 1024 * 1024);
      const res = await new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('big.bin').send(content).endFile().finish();
      expect(res.status).toBe(201);
      existing = { id: String(res.json().id), sha256: sha(content) };
    });
    // A test that fails between a SIGSTOP and its SIGCONT must not leave the store frozen for the next.
    afterEach(() => {
      s3.child.kill('SIGCONT');
    });
    afterAll(async () => {
      s3.child.kill('SIGCONT');
      s3.child.kill('SIGKILL');
      await t.close();
    });

    const download = () => call(base, 'GET', `/api/v1/documents/${existing.id}/content`, { token: clerk.token });
    const upload = () => new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('x.bin').send(randomBytes(50_000)).endFile().finish();

    it('frozen (SIGSTOP): readiness, downloads and uploads answer 503 in bounded time; no integrity alarm; recovers on SIGCONT', async () => {
      s3.child.kill('SIGSTOP');
      try {
        const ready = await timed(call(base, 'GET', '/api/v1/health/ready'));
        expect503(ready.value);
        expect(ready.ms).toBeLessThan(2_500);

        const down = await timed(download());
        expect503(down.value);
        expect(down.ms).toBeLessThan(10_000);

        const up = await timed(upload());
        expect503(up.value);
        expect(up.ms).toBeLessThan(15_000);
      } finally {
        s3.child.kill('SIGCONT');
      }
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      expect(await auditEvents(t.databaseUrl, `action = 'document.download' AND outcome = 'failed' AND target_id = $1`, [existing.id])).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ reason: 'dependency-unavailable', dependency: 'object store' }) }),
      ]);

      // Recovery needs no restart.
      await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 10_000, 'ready again');
      const again = await download();
      expect(again.status).toBe(200);
      expect(sha(again.body)).toBe(existing.sha256);
      // Nothing the failed upload wrote survives the reconciler; the acknowledged document stays.
      await t.app.get(ContentReconciler).reconcile({ graceMs: 0 });
      const versions = await sql<{ storage_key: string }>(t.databaseUrl, 'SELECT storage_key FROM document_versions');
      expect((await objectKeys(t.s3)).sort()).toEqual(versions.map((v) => v.storage_key).sort());
    });

    /** A download read by hand: how far it got and how it ended. `onFirstBytes` runs once bytes arrive. */
    const streamed = (onFirstBytes?: (req: http.ClientRequest) => void) =>
      new Promise<{ status: number; contentLength: number; received: number; ended: 'complete' | 'cut'; at: number; body: Buffer }>((resolve, reject) => {
        let responded = false;
        const req = http.request(new URL(`/api/v1/documents/${existing.id}/content`, base), { headers: { authorization: `Bearer ${clerk.token}`, connection: 'close' }, agent: false }, (r) => {
          responded = true;
          const parts: Buffer[] = [];
          let settled = false;
          const done = (ended: 'complete' | 'cut') => {
            if (settled) return;
            settled = true;
            const body = Buffer.concat(parts);
            resolve({ status: r.statusCode ?? 0, contentLength: Number(r.headers['content-length']), received: body.length, ended, at: Date.now(), body });
          };
          r.on('data', (c: Buffer) => {
            if (parts.length === 0) onFirstBytes?.(req);
            parts.push(c);
          });
          r.on('end', () => done(r.complete ? 'complete' : 'cut'));
          r.on('error', () => done('cut'));
          r.on('aborted', () => done('cut'));
          r.on('close', () => done(r.complete ? 'complete' : 'cut'));
        });
        // Once the response has started, its own events say how it ended (the test may destroy the request).
        req.on('error', (err) => (responded ? undefined : reject(err)));
        req.end();
      });
    const CHUNK = 1024 * 1024; // the ciphertext chunk size: nothing decrypts before a whole chunk has arrived
    const storeFaults = () => auditEvents(t.databaseUrl, `action = 'document.download' AND outcome = 'failed' AND target_id = $1 AND details->>'reason' = 'dependency-unavailable'`, [existing.id]);
    const logsSince = (n: number) => t.logs.slice(n).map((l) => JSON.parse(l) as { level: string; msg?: string; dependency?: string });
    const intactAgain = async () => {
      await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 15_000, 'ready again');
      const again = await download();
      expect(again.status).toBe(200);
      expect(again.body.length).toBe(3 * 1024 * 1024);
      expect(sha(again.body)).toBe(existing.sha256);
    };

    it('frozen mid-download before any byte reached the client: 503 problem+json with Retry-After within the idle timeout, an operational fault; intact after SIGCONT', async () => {
      const faults = (await storeFaults()).length;
      const logs = t.logs.length;
      // s3rver stops after 64 KiB of the object's body: the api has its headers, but not one whole chunk to decrypt.
      await armS3(s3, { action: 'stop', method: 'GET', afterBytes: 64 * 1024 });
      try {
        const res = await timed(download());
        expect(trapFiredAt(s3)).not.toBeNull();
        expect503(res.value);
        expect(res.ms).toBeLessThan(3_000 + 4_000); // S3_IDLE_TIMEOUT_MS + slack
        // Nothing of the download's own headers survives on the problem answer; the security headers do.
        expect(res.value.headers['content-disposition']).toBeUndefined();
        expect(res.value.headers['x-classification']).toBeUndefined();
        expect(res.value.headers['cache-control']).toBe('no-store');
      } finally {
        s3.child.kill('SIGCONT');
      }
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      await until(async () => (await storeFaults()).length === faults + 1, 5_000, 'the operational fault to be audited');
      expect(logsSince(logs)).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'operational fault', dependency: 'object store' }));
      expect(logsSince(logs).filter((l) => l.level === 'error')).toEqual([]);
      await intactAgain();
    });

    it('frozen mid-download after the first bytes: cut short of Content-Length within the idle timeout, an operational fault; intact after SIGCONT', async () => {
      const faults = (await storeFaults()).length;
      const logs = t.logs.length;
      // Two whole chunks and a half leave s3rver: the client gets two, never the third.
      await armS3(s3, { action: 'stop', method: 'GET', afterBytes: 2.5 * CHUNK });
      let res: Awaited<ReturnType<typeof streamed>>;
      try {
        res = await streamed();
      } finally {
        s3.child.kill('SIGCONT');
      }
      expect(res.status).toBe(200);
      expect(res.contentLength).toBe(3 * 1024 * 1024);
      expect(res.ended).toBe('cut');
      expect(res.received).toBe(2 * CHUNK); // what arrived is whole decrypted chunks, detectably short
      expect(res.at - trapFiredAt(s3)!).toBeLessThan(3_000 + 4_000); // S3_IDLE_TIMEOUT_MS + slack
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      await until(async () => (await storeFaults()).length === faults + 1, 5_000, 'the operational fault to be audited');
      expect(logsSince(logs)).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'operational fault', dependency: 'object store' }));
      expect(logsSince(logs).filter((l) => l.level === 'error')).toEqual([]);
      await intactAgain();
    });

    it('a client that aborts a download is logged at info, not as an error or a store fault', async () => {
      const faults = (await storeFaults()).length;
      const logs = t.logs.length;
      // The store is held mid-body so the response cannot have finished when the client leaves.
      await armS3(s3, { action: 'stop', method: 'GET', afterBytes: 2.5 * CHUNK });
      try {
        // The client leaves once the store is frozen: the response cannot have finished by then.
        const res = await streamed((req) => void s3TrapFired(s3).then(() => req.destroy()));
        expect(res.ended).toBe('cut');
        await until(() => logsSince(logs).some((l) => l.msg === 'client closed the request'), 5_000, 'the abort to be logged');
      } finally {
        s3.child.kill('SIGCONT');
      }
      expect(logsSince(logs)).toContainEqual(expect.objectContaining({ level: 'info', msg: 'client closed the request' }));
      expect(logsSince(logs).filter((l) => l.level === 'error' || l.msg === 'operational fault')).toEqual([]);
      expect(await storeFaults()).toHaveLength(faults);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      await intactAgain();
    });

    it('a client that stops reading a download is cut after the idle timeout as its own doing: no store fault audited, no error logged', async () => {
      // Larger than every buffer between s3rver and the client, so the api's store socket really goes quiet.
      const content = randomBytes(48 * 1024 * 1024);
      const created = await new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('large.bin').send(content).endFile().finish();
      expect(created.status).toBe(201);
      const id = String(created.json().id);
      const faults = async () => (await auditEvents(t.databaseUrl, `action = 'document.download' AND outcome = 'failed' AND target_id = $1`, [id])).length;
      const logs = t.logs.length;
      const res = await new Promise<{ received: number; ended: string }>((resolve, reject) => {
        const req = http.request(new URL(`/api/v1/documents/${id}/content`, base), { headers: { authorization: `Bearer ${clerk.token}`, connection: 'close' }, agent: false }, (r) => {
          let received = 0;
          r.once('data', (c: Buffer) => {
            received += c.length;
            r.pause(); // the client stops reading
            void until(() => logsSince(logs).some((l) => l.msg === 'download cut: the client stopped reading'), 20_000, 'the api to give up on the silent client').then(() => {
              r.on('data', (d: Buffer) => (received += d.length));
              r.resume();
            }, reject);
          });
          r.on('end', () => resolve({ received, ended: r.complete ? 'complete' : 'cut' }));
          r.on('error', () => resolve({ received, ended: 'cut' }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.ended).toBe('cut');
      expect(res.received).toBeLessThan(content.length);
      expect(await faults()).toBe(0);
      expect(logsSince(logs).filter((l) => l.level === 'error' || l.msg === 'operational fault')).toEqual([]);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
    });

    it('killed mid-download: cut short of Content-Length at once, an operational fault; started again: intact without an api restart', async () => {
      const faults = (await storeFaults()).length;
      await armS3(s3, { action: 'kill', method: 'GET', afterBytes: 2.5 * CHUNK });
      const res = await streamed();
      await s3.exited;
      expect(res.at - trapFiredAt(s3)!).toBeLessThan(2_000);
      expect(res.status).toBe(200);
      expect(res.ended).toBe('cut');
      expect(res.received).toBe(2 * CHUNK);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      await until(async () => (await storeFaults()).length === faults + 1, 5_000, 'the operational fault to be audited');

      s3 = await startS3(s3Dir, t.s3.port);
      await intactAgain();
    });

    const nothingLeftAfterReconcile = async () => {
      await t.app.get(ContentReconciler).reconcile({ graceMs: 0 });
      expect(await sql(t.databaseUrl, 'SELECT 1 FROM pending_uploads')).toEqual([]);
      const versions = await sql<{ storage_key: string }>(t.databaseUrl, 'SELECT storage_key FROM document_versions');
      expect((await objectKeys(t.s3)).sort()).toEqual(versions.map((v) => v.storage_key).sort());
    };
    /** 12 MiB: the first 8 MiB part is on its way to the store while the rest is read. */
    const bigUpload = () => new ManualUpload(base, '/api/v1/documents', clerk.token).fields(FIELDS).fileHeader('big.bin').send(randomBytes(12 * 1024 * 1024)).endFile().finish();
    const documentCount = async () => (await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM documents'))[0].n;
    const createFaults = async () => (await auditEvents(t.databaseUrl, `action = 'document.create' AND outcome = 'failed' AND details->>'reason' = 'dependency-unavailable'`)).length;

    it('frozen mid-upload (a part half received): 503 within the timeouts, nothing committed or left over; after SIGCONT uploads succeed again', async () => {
      const documents = await documentCount();
      const faults = await createFaults();
      await armS3(s3, { action: 'stop', method: 'PUT', afterBytes: CHUNK });
      try {
        const up = await timed(bigUpload());
        expect(trapFiredAt(s3)).not.toBeNull();
        expect503(up.value);
        expect(up.ms).toBeLessThan(3_000 + 4_000); // S3_IDLE_TIMEOUT_MS + slack: clean-up does not hold the answer
      } finally {
        s3.child.kill('SIGCONT');
      }
      expect(await documentCount()).toBe(documents);
      expect(await createFaults()).toBe(faults + 1);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
      await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 15_000, 'ready again');
      await nothingLeftAfterReconcile();
      expect((await upload()).status).toBe(201);
    });

    it('killed mid-upload (a part half received): 503 at once, nothing committed or left over; started again: uploads succeed without an api restart', async () => {
      const documents = await documentCount();
      const faults = await createFaults();
      await armS3(s3, { action: 'kill', method: 'PUT', afterBytes: CHUNK });
      const up = await timed(bigUpload());
      await s3.exited;
      expect503(up.value);
      expect(up.ms).toBeLessThan(15_000);
      expect(await documentCount()).toBe(documents);
      expect(await createFaults()).toBe(faults + 1);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);

      s3 = await startS3(s3Dir, t.s3.port);
      await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 15_000, 'ready again');
      await nothingLeftAfterReconcile();
      expect((await upload()).status).toBe(201);
    });

    it('killed: 503 at once; started again on the same address: served again without a restart', async () => {
      s3.child.kill('SIGKILL');
      await s3.exited;
      const ready = await timed(call(base, 'GET', '/api/v1/health/ready'));
      expect503(ready.value);
      expect(ready.ms).toBeLessThan(2_500);
      expect503(await download());
      expect503(await upload());
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);

      s3 = await startS3(s3Dir, t.s3.port);
      await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 10_000, 'ready again');
      const again = await download();
      expect(again.status).toBe(200);
      expect(sha(again.body)).toBe(existing.sha256);
    });

    it('after every fault above: every acknowledged document intact, no integrity alarm, the audit chain verifies', async () => {
      const ids = await sql<{ id: string; sha256: string }>(t.databaseUrl, 'SELECT d.id, v.sha256 FROM documents d JOIN document_versions v ON v.document_id = d.id');
      expect(ids.length).toBeGreaterThan(1);
      for (const d of ids) {
        const res = await call(base, 'GET', `/api/v1/documents/${d.id}/content`, { token: clerk.token });
        expect(res.status).toBe(200);
        expect(sha(res.body)).toBe(d.sha256);
      }
      expect(await auditEvents(t.databaseUrl, `action IN ('integrity.failed', 'integrity.object_missing')`)).toEqual([]);
      await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
    });
  });

  describe('PostgreSQL', () => {
    it('killed (kill -9) mid-upload: 503 with Retry-After, readiness within 2 s; started again: served again without a restart, nothing left over', async () => {
      const parent = await mkdtemp(path.join(os.tmpdir(), 'kura-pg-'));
      const dir = path.join(parent, 'pg');
      let pg = await startPostgres(dir);
      const proxy = new PgCommitCutter('127.0.0.1', pg.port);
      await proxy.start();
      const direct = await createDatabase({ dir, databaseUrl: pg.url, s3: testInfra().s3 });
      const t = await startTestApp({ databaseUrl: proxy.rewrite(direct), env: { DATABASE_POOL_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '3000' } });
      try {
        await t.app.listen(0, '127.0.0.1');
        const base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
        const staff = (await createUser(t.http, await loginAdmin(t.http), { roles: ['staff'] })).token;
        expect((await call(base, 'GET', '/api/v1/documents', { token: staff })).status).toBe(200);

        // An upload in flight when PostgreSQL dies: its intent is committed, its object not yet written.
        const inFlight = new ManualUpload(base, '/api/v1/documents', staff).fields(FIELDS).fileHeader('p.bin').send(randomBytes(20_000));
        await until(async () => (await sql(direct, 'SELECT 1 FROM pending_uploads')).length === 1, 10_000, 'the upload to start');

        const pids = crashPostgres(dir);
        await until(() => pids.every((p) => !alive(p)), 10_000, 'PostgreSQL gone');
        const cut = await timed(inFlight.send(randomBytes(20_000)).endFile().finish());
        expect503(cut.value);
        expect(cut.ms).toBeLessThan(8_000);

        const ready = await timed(call(base, 'GET', '/api/v1/health/ready'));
        expect503(ready.value);
        expect(ready.ms).toBeLessThan(2_500);
        const list = await timed(call(base, 'GET', '/api/v1/documents', { token: staff }));
        expect503(list.value);
        expect(list.ms).toBeLessThan(5_000);
        expect(t.logs.join('\n')).not.toMatch(/"status":500/);

        pg.child.kill('SIGKILL');
        await pg.exited;
        pg = await startPostgres(dir);
        proxy.targetPort = pg.port;
        await until(async () => (await call(base, 'GET', '/api/v1/health/ready')).status === 200, 20_000, 'ready again');
        expect((await call(base, 'GET', '/api/v1/documents', { token: staff })).status).toBe(200);
        // The upload cut by the crash left an object and an intent; the reconciler clears both.
        await t.app.get(ContentReconciler).reconcile({ graceMs: 0 });
        // PostgreSQL came back on another port: read through the proxy.
        expect(await sql(proxy.rewrite(direct), 'SELECT 1 FROM pending_uploads')).toEqual([]);
        const versions = await sql<{ storage_key: string }>(proxy.rewrite(direct), 'SELECT storage_key FROM document_versions');
        expect((await objectKeys(t.s3)).sort()).toEqual(versions.map((v) => v.storage_key).sort());
        expect(await auditEvents(proxy.rewrite(direct), `action = 'integrity.failed'`)).toEqual([]);
        await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
      } finally {
        await t.close();
        await proxy.stop();
        pg.child.kill('SIGTERM');
        await pg.exited;
      }
    });
  });
});
