import { ChildProcess, spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { Clock, DomainError } from '@kura/common';
import { Designation, Role, type Actor } from '@kura/identity';
import {
  DispositionExecutor,
  DispositionService,
  HoldsService,
  RetentionEventsService,
  SeriesRepository,
  SeriesService,
  SPECIFIC_TITLE_PLACEHOLDER,
  verifyCertificate,
  verifyCertificateText,
} from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import type { S3Settings } from '@kura/config';
import { createDatabase, testInfra, uniqueName } from './support/infra';
import { approveAndExecute, FixtureDocument, insertDocument, pemSigner, sql, startRetentionContext, writeSigningKey } from './support/retention-context';

const run = promisify(execFile);
const YEAR = 365 * 86_400_000;

function officer(name: string, extra: Partial<Actor> = {}): Actor {
  return { id: randomUUID(), username: name, roles: [Role.RecordsOfficer], clearance: 3, departments: [], designations: [], sessionId: randomUUID(), ...extra };
}

async function expectDomainError(p: Promise<unknown>, code: string): Promise<DomainError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  return err as DomainError;
}

/** Service-level disposition: the retention services on real PostgreSQL and S3, several "instances". */
describe('DispositionExecutor', () => {
  // The e2e project's testTimeout does not reach tests under load; PDF rendering takes seconds.
  jest.setTimeout(60_000);
  let databaseUrl: string;
  let s3: S3Settings;
  let ctx: INestApplicationContext;
  let clock: Clock;
  let store: ObjectStore;
  let privateKeyPem: string;
  let keysDir: string;
  let signer: ReturnType<typeof pemSigner>;
  const a = officer('officer-a');
  const b = officer('officer-b');

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    s3 = { ...testInfra().s3, bucket: uniqueName('kura') };
    privateKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    signer = pemSigner(privateKeyPem);
    clock = new Clock();
    keysDir = await writeSigningKey(privateKeyPem);
    ctx = await startRetentionContext({ databaseUrl, s3, keysDir, clock });
    store = ctx.get(ObjectStore);
  });
  afterAll(async () => {
    await ctx.close();
  });

  async function series(code: string, years: number, trigger: string, disposition: 'destroy' | 'review' = 'destroy'): Promise<string> {
    return (await ctx.get(SeriesService).create(a, { code, name: code, years, trigger, disposition, citation: '所得税法施行規則 第76条の3' })).id;
  }

  async function objectsLeft(doc: FixtureDocument): Promise<string[]> {
    const left: string[] = [];
    for (const key of doc.objectKeys) if (await store.stat(key)) left.push(key);
    return left;
  }

  const audits = (action: string, targetId: string) =>
    sql<{ outcome: string; actor_name: string; details: Record<string, unknown> }>(databaseUrl, `SELECT outcome, actor_name, details FROM audit_events WHERE action = $1 AND target_id = $2 ORDER BY seq`, [action, targetId]);

  it('runs the story: event, clock +7y+1d, due, hold blocks, release, propose, four-eyes, destroy, certificate', async () => {
    const seriesId = await series('HR-ROSTER', 7, 'event:employment-ended');
    const doc = await insertDocument(databaseUrl, store, { title: '労働者名簿 山田', seriesId, createdAt: clock.now(), versions: 2 });
    const due = ctx.get(DispositionService);
    const mine = async () => (await due.due(a)).items.filter((i) => i.documentId === doc.id);

    expect(await mine()).toEqual([]);
    await ctx.get(RetentionEventsService).record(a, { event: 'employment-ended', occurredAt: clock.now().toISOString(), documentIds: [doc.id] });
    expect(await mine()).toEqual([]);
    clock.advance(7 * YEAR + 2 * 86_400_000 + 86_400_000);
    const items = await mine();
    expect(items).toEqual([expect.objectContaining({ documentId: doc.id, seriesCode: 'HR-ROSTER', reason: expect.stringContaining('event "employment-ended"') })]);

    const hold = await ctx.get(HoldsService).create(a, { name: 'Litigation 2033-1', reason: 'labour tribunal', documentIds: [doc.id] });
    expect(await mine()).toEqual([]);
    await expectDomainError(due.propose(a, { documentIds: [doc.id] }), 'conflict');
    expect(await audits('disposition.propose', doc.id)).toEqual([expect.objectContaining({ outcome: 'denied' })]);
    expect(await sql(databaseUrl, `SELECT 1 FROM disposition_items WHERE document_id = $1`, [doc.id])).toEqual([]);
    await ctx.get(HoldsService).release(a, hold.id);

    const proposal = await due.propose(a, { documentIds: [doc.id] });
    expect(proposal).toMatchObject({ state: 'proposed', dryRun: true, proposedBy: 'officer-a', totals: { documents: 1, versions: 2, objects: 2, dataKeys: 2 } });
    expect(proposal.plan[0].versions.map((v) => v.objectKey)).toEqual(doc.objectKeys);

    await expectDomainError(due.approve(a, proposal.id, {}), 'forbidden');
    expect(await objectsLeft(doc)).toEqual(doc.objectKeys);
    expect((await sql(databaseUrl, `SELECT state FROM disposition_batches WHERE id = $1`, [proposal.id]))[0]).toEqual({ state: 'proposed' });
    expect((await sql(databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'disposition.approve' AND target_id = $1`, [proposal.id]))).toEqual([{ outcome: 'denied' }]);

    const done = await approveAndExecute(ctx, b, proposal.id);
    expect(done).toMatchObject({ state: 'completed', approvedBy: 'officer-b', items: [{ documentId: doc.id, state: 'destroyed' }], certificate: `/api/v1/disposition/batches/${proposal.id}/certificate` });
    expect(await objectsLeft(doc)).toEqual([]);
    expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM document_versions WHERE document_id = $1 AND wrapped_key IS NOT NULL`, [doc.id])).toEqual([{ n: 0 }]);
    expect((await sql(databaseUrl, `SELECT status, title FROM documents WHERE id = $1`, [doc.id]))[0]).toEqual({ status: 'destroyed', title: '労働者名簿 山田' });
    const destroyAudit = await audits('document.destroy', doc.id);
    expect(destroyAudit).toEqual([expect.objectContaining({ outcome: 'allowed', actor_name: 'officer-b', details: expect.objectContaining({ authorizer: 'officer-b', proposer: 'officer-a', series: 'HR-ROSTER' }) })]);

    const file = await due.certificate(b, proposal.id, 'json');
    expect(file.contentType).toMatch(/^application\/json/);
    const text = file.body.toString('utf8');
    expect(verifyCertificateText(text, signer.publicKeyPem, { strict: true })).toMatchObject({ valid: true, records: 1 });
    const parsed = JSON.parse(text);
    expect(parsed.certificate.records[0]).toMatchObject({ recordId: doc.id, versionCount: 2, classificationJa: '秘' });
    expect(parsed.certificate.records[0].versions.map((v: { sha256: string }) => v.sha256)).toEqual(doc.sha256s);
    expect(parsed.certificate.records[0].versions.every((v: { verification: { passed: boolean } }) => v.verification.passed)).toBe(true);
    parsed.certificate.records[0].versions[0].size += 1;
    expect(verifyCertificate(parsed, signer.publicKeyPem).valid).toBe(false);

    const pdf = await due.certificate(b, proposal.id, 'pdf');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-cert-'));
    await writeFile(path.join(dir, 'c.pdf'), pdf.body);
    const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', path.join(dir, 'c.pdf'), '-']);
    expect(stdout).toContain(doc.id);
    expect(stdout).toContain('秘 CONFIDENTIAL');
    await rm(dir, { recursive: true, force: true });

    // The erased key bytes do not linger as dead tuples: the executor vacuumed the table.
    const [vacuum] = await sql<{ last_vacuum: Date | null }>(databaseUrl, `SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'document_versions'`);
    expect(vacuum.last_vacuum).not.toBeNull();
    expect(await due.tombstone(doc.id)).toEqual({ destroyedAt: expect.any(String), batchId: proposal.id, certificate: `/api/v1/disposition/batches/${proposal.id}/certificate` });

    // Executing again changes nothing and issues no second certificate.
    await ctx.get(DispositionExecutor).execute(proposal.id, null);
    expect(await audits('document.destroy', doc.id)).toHaveLength(1);
    expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM disposition_certificates WHERE batch_id = $1`, [proposal.id])).toEqual([{ n: 1 }]);
  }, 60_000);

  it('refuses approval when a hold arrives after the proposal, and leaves everything in place', async () => {
    const seriesId = await series('ACC-7', 7, 'created');
    const doc = await insertDocument(databaseUrl, store, { title: 'books', seriesId, createdAt: new Date(clock.now().getTime() - 8 * YEAR) });
    const proposal = await ctx.get(DispositionService).propose(a, { documentIds: [doc.id] });
    const hold = await ctx.get(HoldsService).create(a, { name: 'audit', reason: 'tax audit', documentIds: [doc.id] });
    await expectDomainError(ctx.get(DispositionService).approve(b, proposal.id, {}), 'conflict');
    expect(await objectsLeft(doc)).toEqual(doc.objectKeys);
    expect((await sql(databaseUrl, `SELECT status FROM documents WHERE id = $1`, [doc.id]))[0]).toEqual({ status: 'on_hold' });
    await ctx.get(HoldsService).release(a, hold.id);
    expect((await sql(databaseUrl, `SELECT status FROM documents WHERE id = $1`, [doc.id]))[0]).toEqual({ status: 'active' });
    expect((await approveAndExecute(ctx, b, proposal.id)).items[0].state).toBe('destroyed');
  });

  it('refuses to shorten the retention of a held document by correcting its event date', async () => {
    const seriesId = await series('ROSTER-2', 5, 'event:employment-ended');
    const doc = await insertDocument(databaseUrl, store, { title: 'roster', seriesId, createdAt: clock.now() });
    const events = ctx.get(RetentionEventsService);
    const later = new Date(clock.now().getTime() - 86_400_000);
    await events.record(a, { event: 'employment-ended', occurredAt: later.toISOString(), documentIds: [doc.id] });
    await ctx.get(HoldsService).create(a, { name: 'h', reason: 'r', documentIds: [doc.id] });
    await expectDomainError(events.record(a, { event: 'employment-ended', occurredAt: new Date(later.getTime() - YEAR).toISOString(), documentIds: [doc.id] }), 'conflict');
    const [row] = await sql<{ occurred_at: Date }>(databaseUrl, `SELECT occurred_at FROM retention_events WHERE document_id = $1`, [doc.id]);
    expect(row.occurred_at.toISOString()).toBe(later.toISOString());
    // Lengthening is fine.
    const res = await events.record(a, { event: 'employment-ended', occurredAt: clock.now().toISOString(), documentIds: [doc.id] });
    expect(res.items[0].dispositionDate).not.toBeNull();
  });

  it('refuses to shorten a series or move a document to a shorter series while one of its documents is held', async () => {
    const seriesId = await series('WAGE-5', 5, 'created');
    const shorter = await series('WAGE-3', 3, 'created');
    const doc = await insertDocument(databaseUrl, store, { title: '賃金台帳', seriesId, createdAt: clock.now() });
    const service = ctx.get(SeriesService);
    // Not held: any change is allowed.
    expect((await service.update(a, seriesId, { years: 4 })).years).toBe(4);
    await ctx.get(HoldsService).create(a, { name: 'h', reason: 'r', documentIds: [doc.id] });
    await expectDomainError(service.update(a, seriesId, { years: 3 }), 'conflict');
    await expectDomainError(service.update(a, seriesId, { years: 3, months: 11, days: 30 }), 'conflict');
    expect((await sql(databaseUrl, `SELECT years FROM record_series WHERE id = $1`, [seriesId]))[0]).toEqual({ years: 4 });
    expect(await sql(databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'retention.series.update' AND target_id = $1 ORDER BY seq`, [seriesId])).toEqual([{ outcome: 'allowed' }, { outcome: 'denied' }, { outcome: 'denied' }]);
    // Longer, or an event trigger still waiting for its event, is fine.
    expect((await service.update(a, seriesId, { years: 6 })).years).toBe(6);
    expect((await service.update(a, seriesId, { trigger: 'event:last-entry-made' })).trigger).toBe('event:last-entry-made');
    const { dataSource } = ctx.get(SeriesRepository);
    await expectDomainError(dataSource.transaction((m) => service.assertSeriesChangeAllowed(m, doc.id, shorter)), 'conflict');
    await expect(dataSource.transaction((m) => service.assertSeriesChangeAllowed(m, doc.id, null))).resolves.toBeUndefined();
  });

  it('needs a decision for review series: extend keeps the record with its reason', async () => {
    const seriesId = await series('FS-10', 10, 'created', 'review');
    const keep = await insertDocument(databaseUrl, store, { title: '計算書類 2020', seriesId, createdAt: new Date(clock.now().getTime() - 11 * YEAR) });
    const drop = await insertDocument(databaseUrl, store, { title: '計算書類 2019', seriesId, createdAt: new Date(clock.now().getTime() - 11 * YEAR) });
    const service = ctx.get(DispositionService);
    const proposal = await service.propose(a, { documentIds: [keep.id, drop.id] });
    expect(proposal.plan.every((p) => p.reviewRequired)).toBe(true);
    await expectDomainError(service.approve(b, proposal.id, {}), 'validation');
    const until = new Date(clock.now().getTime() + 5 * YEAR).toISOString();
    const done = await approveAndExecute(ctx, b, proposal.id, {
      decisions: [
        { documentId: keep.id, decision: 'extend', reason: 'kept permanently by board resolution', extendUntil: until },
        { documentId: drop.id, decision: 'destroy' },
      ],
    });
    const states = Object.fromEntries(done.items.map((i) => [i.documentId, i.state]));
    expect(states).toEqual({ [keep.id]: 'extended', [drop.id]: 'destroyed' });
    expect(await objectsLeft(keep)).toEqual(keep.objectKeys);
    expect((await service.due(a)).items.map((i) => i.documentId)).not.toContain(keep.id);
    const cert = JSON.parse((await service.certificate(b, proposal.id, 'json')).body.toString());
    expect(cert.certificate.notDestroyed).toEqual([{ recordId: keep.id, outcome: 'extended', reason: 'kept permanently by board resolution' }]);
  });

  it('keeps specific documents to My Number handlers, and replaces their title in the tombstone and certificate', async () => {
    const seriesId = await series('MN-COPIES', 0, 'event:purpose-ended');
    const doc = await insertDocument(databaseUrl, store, { title: '個人番号カード 佐藤花子', seriesId, createdAt: clock.now(), personalData: 'specific', classification: 3 });
    const c = officer('handler-c', { designations: [Designation.MyNumberHandler], departments: ['hr'] });
    const d = officer('handler-d', { designations: [Designation.MyNumberHandler], departments: ['hr'] });
    // Not a handler: the document does not exist for officer a.
    await expectDomainError(ctx.get(RetentionEventsService).record(a, { event: 'purpose-ended', occurredAt: clock.now().toISOString(), documentIds: [doc.id] }), 'not-found');
    await ctx.get(RetentionEventsService).record(c, { event: 'purpose-ended', occurredAt: clock.now().toISOString(), documentIds: [doc.id] });
    const service = ctx.get(DispositionService);
    expect((await service.due(a)).items.map((i) => i.documentId)).not.toContain(doc.id);
    expect((await service.due(c)).items.find((i) => i.documentId === doc.id)?.title).toBe('個人番号カード 佐藤花子');
    await expectDomainError(service.propose(a, { documentIds: [doc.id] }), 'not-found');
    const proposal = await service.propose(c, { documentIds: [doc.id] });
    await expectDomainError(service.approve(b, proposal.id, {}), 'forbidden');
    await approveAndExecute(ctx, d, proposal.id);
    expect((await sql(databaseUrl, `SELECT title, status FROM documents WHERE id = $1`, [doc.id]))[0]).toEqual({ title: SPECIFIC_TITLE_PLACEHOLDER, status: 'destroyed' });
    const body = (await service.certificate(d, proposal.id, 'json')).body.toString();
    expect(body).not.toContain('佐藤花子');
    expect(JSON.parse(body).certificate.records[0]).toMatchObject({ title: SPECIFIC_TITLE_PLACEHOLDER, titleWithheld: true, classificationJa: '極秘' });
    expect(JSON.stringify(await sql(databaseUrl, `SELECT plan, result FROM disposition_items WHERE document_id = $1`, [doc.id]))).not.toContain('佐藤花子');
  });

  describe('across processes', () => {
    const root = path.resolve(__dirname, '..');
    function child(input: Record<string, unknown>): { proc: ChildProcess; exit: Promise<number | null>; output: () => string } {
      let output = '';
      const proc = spawn(process.execPath, ['-r', './test/support/swc-register.cjs', 'test/support/disposition-child.ts'], {
        cwd: root,
        env: { ...process.env, KURA_CHILD: JSON.stringify({ databaseUrl, s3, keysDir, ...input }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      return { proc, exit, output: () => output };
    }

    async function dueBatch(n: number, code: string): Promise<{ batchId: string; docs: FixtureDocument[] }> {
      const seriesId = await series(code, 7, 'created');
      const docs: FixtureDocument[] = [];
      // Created 8 years ago by the real clock: due for the children, whose clock is not moved.
      for (let i = 0; i < n; i++) docs.push(await insertDocument(databaseUrl, store, { title: `${code} ${i}`, seriesId, createdAt: new Date(Date.now() - 8 * YEAR), versions: 2 }));
      const proposal = await ctx.get(DispositionService).propose(a, { documentIds: docs.map((d) => d.id) });
      return { batchId: proposal.id, docs };
    }

    async function assertExactlyOnce(batchId: string, docs: FixtureDocument[]): Promise<void> {
      for (const d of docs) {
        expect(await objectsLeft(d)).toEqual([]);
        expect(await audits('document.destroy', d.id)).toEqual([expect.objectContaining({ outcome: 'allowed' })]);
        expect(await audits('document.crypto_erase', d.id)).toHaveLength(1);
      }
      expect(await sql(databaseUrl, `SELECT state FROM disposition_items WHERE batch_id = $1 AND state <> 'destroyed'`, [batchId])).toEqual([]);
      expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM disposition_certificates WHERE batch_id = $1`, [batchId])).toEqual([{ n: 1 }]);
      expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE action = 'disposition.complete' AND target_id = $1`, [batchId])).toEqual([{ n: 1 }]);
      const file = (await ctx.get(DispositionService).certificate(b, batchId, 'json')).body.toString();
      expect(verifyCertificateText(file, signer.publicKeyPem, { strict: true })).toMatchObject({ valid: true, records: docs.length });
    }

    it('resumes a batch whose executor was killed mid-way, destroying each document once', async () => {
      const { batchId, docs } = await dueBatch(4, 'CRASH-7');
      const c = child({ batchId, deleteDelayMs: 400, approveAs: b });
      // Kill once some documents are done and some are not.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [row] = await sql<{ done: number; open: number }>(
          databaseUrl,
          `SELECT count(*) FILTER (WHERE state = 'destroyed')::int AS done, count(*) FILTER (WHERE state IN ('pending', 'erased'))::int AS open FROM disposition_items WHERE batch_id = $1`,
          [batchId],
        );
        if (row.done >= 1 && row.open >= 2) break;
        if (Date.now() > deadline) throw new Error(`child never got mid-batch: ${c.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      c.proc.kill('SIGKILL');
      await c.exit;
      expect(await sql(databaseUrl, `SELECT count(*)::int AS n FROM disposition_certificates WHERE batch_id = $1`, [batchId])).toEqual([{ n: 0 }]);
      expect((await sql(databaseUrl, `SELECT state FROM disposition_batches WHERE id = $1`, [batchId]))[0]).toEqual({ state: 'executing' });

      // What the worker's sweep does after a crash.
      await ctx.get(DispositionExecutor).resumeAll();
      await assertExactlyOnce(batchId, docs);
    }, 120_000);

    it('two executors on the same batch at once destroy each document once and issue one certificate', async () => {
      const { batchId, docs } = await dueBatch(4, 'TWO-7');
      await sql(databaseUrl, `UPDATE disposition_batches SET state = 'executing', approved_by = $2, approved_by_name = 'officer-b', approved_at = now() WHERE id = $1`, [batchId, b.id]);
      const one = child({ batchId, deleteDelayMs: 50 });
      const two = child({ batchId, deleteDelayMs: 50 });
      const codes = await Promise.all([one.exit, two.exit]);
      expect({ codes, out: [one.output(), two.output()] }).toMatchObject({ codes: [0, 0] });
      await assertExactlyOnce(batchId, docs);
    }, 120_000);
  });
});
