import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentReconciler } from '@kura/documents';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin, TestUser } from '../support/auth';
import { auditEvents, objectKeys, sql } from '../support/documents';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { Answer, call, ManualUpload, until } from './support/client';
import { PgCommitCutter } from './support/pg-proxy';
import { alive, crashPostgres, S3Child, startPostgres, startS3 } from './support/processes';

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

    it('frozen mid-download: the response is cut within the idle timeout, never an integrity alarm', async () => {
      const res = await new Promise<{ received: number; ended: 'cut' | 'complete' }>((resolve, reject) => {
        const req = http.request(new URL(`/api/v1/documents/${existing.id}/content`, base), { headers: { authorization: `Bearer ${clerk.token}`, connection: 'close' }, agent: false }, (r: http.IncomingMessage) => {
          let received = 0;
          r.once('data', (c: Buffer) => {
            received += c.length;
            s3.child.kill('SIGSTOP');
            r.on('data', (d: Buffer) => (received += d.length));
          });
          r.on('end', () => resolve({ received, ended: 'complete' }));
          r.on('error', () => resolve({ received, ended: 'cut' }));
          r.on('aborted', () => resolve({ received, ended: 'cut' }));
        });
        req.on('error', reject);
        req.end();
      });
      s3.child.kill('SIGCONT');
      // Either everything had already been buffered on the way, or the client saw a cut: never a wrong body.
      if (res.ended === 'complete') expect(res.received).toBe(3 * 1024 * 1024);
      expect(await auditEvents(t.databaseUrl, `action = 'integrity.failed'`)).toEqual([]);
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
  });

  describe('PostgreSQL', () => {
    it('killed (kill -9) mid-upload: 503 with Retry-After, readiness within 2 s; started again: served again without a restart, nothing left over', async () => {
      const parent = await mkdtemp(path.join(os.tmpdir(), 'kura-pg-'));
      // PostgreSQL refuses to run as root: the embedded package runs it as another user.
      await chmod(parent, 0o755);
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
      } finally {
        await t.close();
        await proxy.stop();
        pg.child.kill('SIGTERM');
        await pg.exited;
      }
    });
  });
});
