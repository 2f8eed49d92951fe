import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeyRing } from '@kura/crypto';
import { DocumentWritesService } from '@kura/documents';
import { runCli } from '../apps/cli/src/cli';
import { startTestApp, TestApp } from './support/app';
import { actor, auditEvents, sql } from './support/documents';
import { createDatabase } from './support/infra';
import { multipart } from './support/multipart';

jest.setTimeout(120_000);

/** `npm run cli -- …` in-process against the test's PostgreSQL, S3 and keys. */
describe('kura CLI against a database', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function envOf(databaseUrl = t.databaseUrl): Record<string, string> {
    return {
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: `http://${t.s3.endPoint}:${t.s3.port}`,
      S3_ACCESS_KEY: t.s3.accessKey,
      S3_SECRET_KEY: t.s3.secretKey,
      S3_BUCKET: t.s3.bucket,
      KEYS_DIR: t.config.keysDir,
      VAR_DIR: t.config.varDir,
    };
  }

  async function cli(argv: string[], env = envOf()) {
    const out: string[] = [];
    const err: string[] = [];
    const progress: Array<Record<string, unknown>> = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env, progress: (e) => progress.push(e) });
    return { code, out: out.join('\n'), err: err.join('\n'), progress };
  }

  it('migrate applies the schema to an empty database, then finds nothing to do', async () => {
    const fresh = await createDatabase();
    const first = await cli(['migrate'], envOf(fresh));
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/^Applied \d+ migration\(s\)/) });
    expect((await sql(fresh, "SELECT to_regclass('public.audit_events') AS t"))[0].t).toBe('audit_events');
    expect(await cli(['migrate'], envOf(fresh))).toMatchObject({ code: 0, out: 'The schema is up to date.' });
  });

  it('keys rotate exits non-zero when some data keys could not be re-wrapped, and reports progress', async () => {
    const docs = t.app.get(DocumentWritesService);
    const owner = actor({ clearance: 2 });
    for (const title of ['one', 'two']) {
      await docs.create(owner, multipart([['title', title], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'finance']], { filename: `${title}.txt`, content: randomBytes(64) }));
    }
    const ring = t.app.get(KeyRing);
    const kekDir = path.join(t.config.keysDir, 'kek');
    const old = ring.activeKekId();
    // A damaged KEK file: the data keys wrapped under it cannot be unwrapped, so they cannot move.
    const good = readFileSync(path.join(kekDir, `${old}.key`));
    writeFileSync(path.join(kekDir, `${old}.key`), randomBytes(32).toString('base64') + '\n');
    try {
      const r = await cli(['keys', 'rotate', '--batch', '1', '--yes']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out)).toMatchObject({ rewrapped: 0, failed: 2 });
      expect(r.progress.length).toBeGreaterThanOrEqual(2);
      expect(r.progress.at(-1)).toMatchObject({ operation: 'rewrap', rewrapped: 0, failed: 2 });
      expect((await auditEvents(t.databaseUrl, "action = 'key.rewrap'")).at(-1)).toMatchObject({ outcome: 'failed' });
    } finally {
      writeFileSync(path.join(kekDir, `${old}.key`), good);
    }
    // With the key repaired, resuming moves them and exits 0.
    const resumed = await cli(['keys', 'rewrap', '--yes']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ rewrapped: 2, failed: 0 });
    expect(readdirSync(kekDir).filter((f) => f.endsWith('.key'))).toHaveLength(2);
  });

  it('jobs run <name> runs one job and reports it; an unknown job is a usage error', async () => {
    const list = await cli(['jobs', 'list']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as Array<{ name: string }>).map((j) => j.name)).toEqual(expect.arrayContaining(['retention.sweep', 'fixity', 'disposition.resume', 'audit.checkpoint', 'session.purge']));
    const run = await cli(['jobs', 'run', 'audit.checkpoint']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ job: 'audit.checkpoint', status: 'succeeded' });
    expect((await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM audit_checkpoints'))[0].n).toBeGreaterThan(0);
    expect(JSON.parse((await cli(['jobs', 'run', 'disposition.resume'])).out)).toMatchObject({ job: 'disposition.resume', status: 'succeeded' });
    expect(await cli(['jobs', 'run', 'nope'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown job: nope/) });
  });
});
