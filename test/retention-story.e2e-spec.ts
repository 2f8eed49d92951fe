import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client as MinioClient } from 'minio';
import request from 'supertest';
import { JsonLogger } from '@kura/common';
import { verifyCertificateText } from '@kura/retention';
import { runCli } from '../apps/cli/src/cli';
import { RetentionJobs } from '../apps/worker/src/jobs/retention.jobs';
import { Scheduler } from '../apps/worker/src/scheduler';
import { createWorker } from '../apps/worker/src/worker.factory';
import { startTestApp, TestApp } from './support/app';
import { createUser, login, loginAdmin, TestUser } from './support/auth';
import { sql } from './support/retention-context';

const run = promisify(execFile);
const DAY = 86_400_000;

/** supertest's two-argument parser form: collects the raw body bytes. */
type Parser = Extract<Parameters<request.Test['parse']>[0], (res: never, cb: never) => void>;
const binary: Parser = (res, cb) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

/** Issue 5 "Done when": the whole story over HTTP with real uploads, a moved clock, PostgreSQL and S3. */
describe('retention story (issue 5, Done when)', () => {
  jest.setTimeout(120_000);
  let t: TestApp;
  let clerk: TestUser;
  let a: TestUser;
  let b: TestUser;
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

  beforeAll(async () => {
    t = await startTestApp({ worker: true });
    const admin = await loginAdmin(t.http);
    clerk = await createUser(t.http, admin, { username: 'clerk', roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
    a = await createUser(t.http, admin, { username: 'officer-a', roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
    b = await createUser(t.http, admin, { username: 'officer-b', roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('series 7y → upload → event → +7y+1d → due → hold blocks → release → propose → four-eyes → destroyed, 410, certificate', async () => {
    const series = await request(t.http).post('/api/v1/retention/series').set(as(a))
      .send({ code: 'JP-LABOR-WORKER-ROSTER-T', name: '労働者名簿', years: 7, months: 0, days: 0, trigger: 'event:employment-ended', disposition: 'destroy', citation: '労働基準法 第109条' })
      .expect(201);

    const v1 = Buffer.from('roster v1 '.padEnd(5000, 'x'));
    const up = await request(t.http).post('/api/v1/documents').set(as(clerk))
      .field('title', '労働者名簿 山田太郎').field('kind', 'record').field('classification', 'CONFIDENTIAL').field('department', 'hr').field('seriesId', series.body.id)
      .attach('file', v1, { filename: 'roster.txt', contentType: 'text/plain' })
      .expect(201);
    const id = up.body.id as string;
    const etag = (await request(t.http).get(`/api/v1/documents/${id}`).set(as(clerk)).expect(200)).headers.etag as string;
    await request(t.http).post(`/api/v1/documents/${id}/versions`).set(as(clerk)).set('If-Match', etag)
      .field('comment', 'correction').attach('file', Buffer.from('roster v2'), { filename: 'roster.txt', contentType: 'text/plain' })
      .expect(201);

    await request(t.http).post('/api/v1/retention/events').set(as(a)).send({ event: 'employment-ended', occurredAt: t.clock.now().toISOString(), documentIds: [id] }).expect(201);

    t.clock.advance((7 * 365 + 2 + 1) * DAY); // 7 years (two leap days) + 1 day
    for (const u of [clerk, a, b]) u.token = await login(t.http, u.username, u.password);

    const due = await request(t.http).get('/api/v1/disposition/due').set(as(a)).expect(200);
    expect(due.body.items).toContainEqual(expect.objectContaining({ documentId: id, reason: expect.stringContaining('employment-ended') }));

    // A hold blocks the proposal, and the approval of a batch proposed before it.
    const early = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [id] }).expect(201);
    const hold = await request(t.http).post('/api/v1/holds').set(as(a)).send({ name: 'Tribunal', reason: 'labour dispute', documentIds: [id] }).expect(201);
    await request(t.http).post(`/api/v1/disposition/batches/${early.body.id}/approve`).set(as(b)).send({}).expect(409);
    await request(t.http).post(`/api/v1/disposition/batches/${early.body.id}/cancel`).set(as(a)).expect(200);
    await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [id] }).expect(409);
    // Nor may its retention be shortened by moving it to a shorter series.
    const shorter = await request(t.http).post('/api/v1/retention/series').set(as(a))
      .send({ code: 'SHORT-1', name: 'short', years: 1, trigger: 'created', disposition: 'destroy', citation: 'n/a' })
      .expect(201);
    await request(t.http).patch(`/api/v1/documents/${id}`).set(as(a)).send({ seriesId: shorter.body.id }).expect(409);
    expect((await request(t.http).get(`/api/v1/documents/${id}`).set(as(a)).expect(200)).body.seriesId).toBe(series.body.id);
    await request(t.http).post(`/api/v1/holds/${hold.body.id}/release`).set(as(a)).expect(200);

    const proposal = await request(t.http).post('/api/v1/disposition/batches').set(as(a)).send({ documentIds: [id] }).expect(201);
    const keys = proposal.body.plan[0].versions.map((v: { objectKey: string }) => v.objectKey) as string[];
    expect(keys).toHaveLength(2);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(a)).send({}).expect(403);
    await request(t.http).get(`/api/v1/documents/${id}/content`).set(as(clerk)).expect(200);
    await request(t.http).post(`/api/v1/disposition/batches/${proposal.body.id}/approve`).set(as(b)).send({}).expect(200);

    const raw = new MinioClient({ endPoint: t.s3.endPoint, port: t.s3.port, useSSL: t.s3.useSSL, accessKey: t.s3.accessKey, secretKey: t.s3.secretKey, region: t.s3.region });
    const left: string[] = [];
    for await (const o of raw.listObjects(t.s3.bucket, '', true) as AsyncIterable<{ name?: string }>) if (o.name) left.push(o.name);
    for (const k of keys) expect(left).not.toContain(k);
    expect(await sql(t.databaseUrl, `SELECT count(*)::int AS n FROM document_versions WHERE document_id = $1 AND wrapped_key IS NOT NULL`, [id])).toEqual([{ n: 0 }]);
    await request(t.http).get(`/api/v1/documents/${id}/content`).set(as(clerk)).expect(410);
    const meta = await request(t.http).get(`/api/v1/documents/${id}`).set(as(a)).expect(200);
    expect(meta.body).toMatchObject({
      status: 'destroyed',
      seriesId: series.body.id,
      classification: 'CONFIDENTIAL',
      version: 2,
      disposition: { batchId: proposal.body.id, destroyedAt: expect.any(String), certificate: `/api/v1/disposition/batches/${proposal.body.id}/certificate` },
    });
    // The tombstone keeps every version's hash and size.
    const versions = await request(t.http).get(`/api/v1/documents/${id}/versions`).set(as(a)).expect(200);
    expect(versions.body.items.map((v: { sha256: string }) => v.sha256)).toEqual(proposal.body.plan[0].versions.map((v: { sha256: string }) => v.sha256));

    const key = await request(t.http).get('/api/v1/keys/public').expect(200);
    const url = `/api/v1/disposition/batches/${proposal.body.id}/certificate`;
    const json = await request(t.http).get(url).set(as(b)).set('Accept', 'application/json').buffer(true).parse(binary).expect(200);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-story-'));
    await writeFile(path.join(dir, 'certificate.json'), json.body as Buffer);
    await writeFile(path.join(dir, 'keys.json'), JSON.stringify(key.body));
    const tampered = Buffer.from(json.body as Buffer);
    tampered[tampered.indexOf('officer-b')] = 'O'.charCodeAt(0);
    await writeFile(path.join(dir, 'tampered.json'), tampered);
    const io = { out: () => undefined, err: () => undefined, env: {} };
    expect(await runCli(['certificate', 'verify', path.join(dir, 'certificate.json'), '--public-key', path.join(dir, 'keys.json')], io)).toBe(0);
    expect(await runCli(['certificate', 'verify', path.join(dir, 'tampered.json'), '--public-key', path.join(dir, 'keys.json')], io)).toBe(1);
    expect(verifyCertificateText((json.body as Buffer).toString(), key.body.publicKeyPem, { strict: true })).toMatchObject({ valid: true });

    const pdf = await request(t.http).get(url).set(as(b)).set('Accept', 'application/pdf').buffer(true).parse(binary).expect(200);
    await writeFile(path.join(dir, 'certificate.pdf'), pdf.body as Buffer);
    await run('pdftoppm', ['-r', '40', '-png', path.join(dir, 'certificate.pdf'), path.join(dir, 'page')]);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', path.join(dir, 'certificate.pdf'), '-']);
    expect(stdout).toContain('秘 CONFIDENTIAL');
    expect(stdout).toContain('データ消去証明書');
    expect(stdout).toContain(id);
    await rm(dir, { recursive: true, force: true });
  });

  it('the worker fixity job re-reads encrypted versions and records integrity.failed for a changed object', async () => {
    const up = await request(t.http).post('/api/v1/documents').set(as(clerk))
      .field('title', 'fixity sample').field('kind', 'record').field('classification', 'INTERNAL').field('department', 'hr')
      .attach('file', Buffer.from('fixity '.repeat(1000)), { filename: 'f.txt', contentType: 'text/plain' })
      .expect(201);
    const worker = await createWorker(t.config, { databaseUrl: t.databaseUrl, s3: t.s3 }, new JsonLogger('error', () => undefined), t.clock);
    try {
      const jobs = worker.get(RetentionJobs);
      await worker.get(Scheduler).runNow(jobs.fixity);
      const failed = () => sql(t.databaseUrl, `SELECT target_id, details FROM audit_events WHERE action = 'integrity.failed' AND target_id = $1`, [up.body.id]);
      expect(await failed()).toEqual([]);
      const [v] = await sql<{ storage_key: string }>(t.databaseUrl, `SELECT storage_key FROM document_versions WHERE document_id = $1`, [up.body.id]);
      const raw = new MinioClient({ endPoint: t.s3.endPoint, port: t.s3.port, useSSL: t.s3.useSSL, accessKey: t.s3.accessKey, secretKey: t.s3.secretKey, region: t.s3.region });
      const stored: Buffer[] = [];
      for await (const c of await raw.getObject(t.s3.bucket, v.storage_key)) stored.push(c as Buffer);
      const flipped = Buffer.concat(stored);
      flipped[flipped.length - 20] ^= 0x01;
      await raw.putObject(t.s3.bucket, v.storage_key, flipped);
      await worker.get(Scheduler).runNow(jobs.fixity);
      expect(await failed()).toEqual([{ target_id: up.body.id, details: expect.objectContaining({ version: 1, reason: expect.stringMatching(/unreadable|mismatch/) }) }]);
    } finally {
      await worker.close();
    }
  });
});
