import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import request from 'supertest';
import { DocumentLifecycle } from '@kura/documents';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin } from './support/auth';
import { testInfra, uniqueName } from './support/infra';

jest.setTimeout(120_000);

/** Runs `text` as `url`'s role; resolves to the PostgreSQL error code, or null when it succeeded. */
async function errorCodeOf(url: string, text: string): Promise<string | null> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? 'unknown';
  } finally {
    await c.end();
  }
}

async function query<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe('Least privilege: the service runs as a role that owns nothing (e2e)', () => {
  let t: TestApp;
  const owner = uniqueName('kura_owner').replace('-', '_');
  const runtime = uniqueName('kura_app').replace('-', '_');
  const database = uniqueName('kura').replace('-', '_');
  let ownerUrl: string;
  let runtimeUrl: string;
  let superUrl: string;

  const urlFor = (role: string, password: string, db = database) => {
    const u = new URL(testInfra().databaseUrl);
    u.username = role;
    u.password = password;
    u.pathname = `/${db}`;
    return u.toString();
  };

  beforeAll(async () => {
    const ownerPassword = randomBytes(12).toString('hex');
    const runtimePassword = randomBytes(12).toString('hex');
    superUrl = testInfra().databaseUrl;
    await query(superUrl, `CREATE ROLE ${owner} LOGIN PASSWORD '${ownerPassword}'`);
    await query(superUrl, `CREATE ROLE ${runtime} LOGIN PASSWORD '${runtimePassword}'`);
    await query(superUrl, `CREATE DATABASE ${database} OWNER ${owner}`);
    ownerUrl = urlFor(owner, ownerPassword);
    runtimeUrl = urlFor(runtime, runtimePassword);
    t = await startTestApp({ databaseUrl: runtimeUrl, env: { MIGRATION_DATABASE_URL: ownerUrl } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves requests: login, user administration, upload and download', async () => {
    const admin = await loginAdmin(t.http);
    const user = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['finance'] });
    const created = await request(t.http)
      .post('/api/v1/documents')
      .set('Authorization', `Bearer ${user.token}`)
      .field('title', 'runs as the runtime role')
      .field('kind', 'record')
      .field('classification', 'INTERNAL')
      .field('department', 'finance')
      .attach('file', Buffer.from('hello'), 'a.txt')
      .expect(201);
    await request(t.http).get(`/api/v1/documents/${created.body.id}/content`).set('Authorization', `Bearer ${user.token}`).expect(200);
    const [{ n }] = await query<{ n: number }>(runtimeUrl, `SELECT count(*)::int AS n FROM audit_events`);
    expect(n).toBeGreaterThan(0);
  });

  it('the runtime role owns no relation, is no superuser and cannot create in the schema', async () => {
    const [facts] = await query<{ owned: number; superuser: boolean; create: boolean }>(
      runtimeUrl,
      `SELECT (SELECT count(*)::int FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS owned,
              (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
              has_schema_privilege(current_user, 'public', 'CREATE') AS create`,
    );
    expect(facts).toEqual({ owned: 0, superuser: false, create: false });
    const [{ tables }] = await query<{ tables: number }>(ownerUrl, `SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user`);
    expect(tables).toBeGreaterThan(10);
  });

  it.each([
    ['UPDATE', `UPDATE audit_events SET action = 'rewritten'`],
    ['DELETE', `DELETE FROM audit_events`],
    ['TRUNCATE', `TRUNCATE audit_events`],
    ['DISABLE TRIGGER', `ALTER TABLE audit_events DISABLE TRIGGER ALL`],
    ['UPDATE of checkpoints', `UPDATE audit_checkpoints SET signature = 'x'`],
    ['DROP', `DROP TABLE audit_events`],
    ['CREATE', `CREATE TABLE sneaky (id int)`],
    ['the migrations table', `DELETE FROM migrations`],
  ])('refuses the runtime role a direct %s (permission denied, not a trigger)', async (_what, text) => {
    // 42501 insufficient_privilege; 42501 also for "must be owner of table".
    expect(await errorCodeOf(runtimeUrl, text)).toBe('42501');
  });

  it('leaves the audit trail untouched by those attempts', async () => {
    const [{ n }] = await query<{ n: number }>(superUrl.replace(/\/[^/]*$/, `/${database}`), `SELECT count(*)::int AS n FROM audit_events WHERE action = 'rewritten'`);
    expect(n).toBe(0);
  });

  it('a second process given only the runtime role (e.g. a worker) starts on the migrated schema', async () => {
    const second = await startTestApp({ databaseUrl: runtimeUrl, s3: t.s3 });
    try {
      await request(second.http).get('/api/v1/health/ready').expect(200);
    } finally {
      await second.close();
    }
  });

  it('vacuums the key table as the runtime role (MAINTAIN), and says so only when it really ran', async () => {
    const lifecycle = t.app.get(DocumentLifecycle);
    expect(await lifecycle.vacuumErasedKeys()).toBe(true);
    await query(ownerUrl, `REVOKE MAINTAIN ON document_versions FROM ${runtime}`);
    try {
      // Without the privilege PostgreSQL skips the table with a mere warning.
      expect(await lifecycle.vacuumErasedKeys()).toBe(false);
    } finally {
      await query(ownerUrl, `GRANT MAINTAIN ON document_versions TO ${runtime}`);
    }
  });
});

describe('Least privilege in embedded mode (e2e)', () => {
  it('sets up both roles: the superuser migrates, the service connects as kura_app, which owns nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-embedded-roles-'));
    const infra = testInfra();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', './test/support/swc-register.cjs', 'test/support/embedded-roles-child.ts'], {
        env: { ...process.env, KURA_CHILD_VAR_DIR: dir, S3_ENDPOINT: `http://${infra.s3.endPoint}:${infra.s3.port}`, S3_ACCESS_KEY: infra.s3.accessKey, S3_SECRET_KEY: infra.s3.secretKey, DATABASE_URL: '', MIGRATION_DATABASE_URL: '' },
        timeout: 90_000,
      });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ runtimeRole: 'kura_app', migrationRole: 'postgres', owned: 0, insertAudit: true, updateAudit: false, disableTrigger: '42501' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
