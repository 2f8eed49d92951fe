import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { KeyRing } from '@kura/crypto';
import { DocumentContentService, DocumentMetadataService, DocumentQueriesService, DocumentWritesService, KeyRotationService, VersionDigestService } from '@kura/documents';
import { Role, type Actor } from '@kura/identity';
import { runKeysCommand } from '../apps/cli/src/keys.command';
import { startTestApp, TestApp } from './support/app';
import { actor, auditEvents, handler, minio, objectKeys, readObject, sql } from './support/documents';
import { FieldList, multipart } from './support/multipart';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function drain(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function fields(overrides: Record<string, string | undefined> = {}): FieldList {
  const base: Record<string, string | undefined> = { title: 'Expense policy', kind: 'policy', classification: 'CONFIDENTIAL', department: 'finance', personalData: 'none', ...overrides };
  return Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined);
}

async function expectDomainError(p: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  return err as DomainError;
}

jest.setTimeout(120_000);

/** The documents capability's services (write path, metadata, queries, content) as one handle. */
function documentServices(t: TestApp) {
  const [w, m, q, c] = [t.app.get(DocumentWritesService), t.app.get(DocumentMetadataService), t.app.get(DocumentQueriesService), t.app.get(DocumentContentService)];
  return {
    create: w.create.bind(w),
    addVersion: w.addVersion.bind(w),
    restore: w.restore.bind(w),
    update: m.update.bind(m),
    get: q.get.bind(q),
    list: q.list.bind(q),
    listVersions: q.listVersions.bind(q),
    accessHistory: q.accessHistory.bind(q),
    inventory: q.inventory.bind(q),
    download: c.download.bind(c),
  };
}

describe('documents services', () => {
  let t: TestApp;
  let docs: ReturnType<typeof documentServices>;
  const alice = actor({ username: 'alice', clearance: 2 });

  beforeAll(async () => {
    t = await startTestApp({ env: { MAX_UPLOAD_BYTES: String(3 * 1024 * 1024) } });
    docs = documentServices(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const counts = async () => ({
    docs: (await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM documents'))[0].n,
    versions: (await sql<{ n: number }>(t.databaseUrl, 'SELECT count(*)::int AS n FROM document_versions'))[0].n,
    objects: (await objectKeys(t.s3)).length,
  });

  const upload = (who: Actor, f: FieldList, content: Buffer, filename: string | Buffer = 'report.txt', options: { fileFirst?: boolean } = {}) =>
    docs.create(who, multipart(f, { filename, content }, options));

  it('stores an encrypted first version and audits the creation in the same transaction', async () => {
    const plain = Buffer.from('Quarterly expense policy — 経費規程. '.repeat(2000));
    const view = await upload(alice, [...fields(), ['tags', 'finance'], ['tags', 'policy']], plain);
    expect(view).toMatchObject({ title: 'Expense policy', kind: 'policy', classification: 'CONFIDENTIAL', department: 'finance', ownerId: alice.id, personalData: 'none', seriesId: null, status: 'active', version: 1, sha256: sha(plain), size: plain.length, tags: ['finance', 'policy'] });
    // Policies default to a review a year out (A5.1.2).
    expect(new Date(view.reviewDueAt as string).getTime()).toBeGreaterThan(Date.now() + 360 * 86400_000);

    const [row] = await sql<{ storage_key: string; kek_id: string; wrapped: number; media_type: string }>(t.databaseUrl, `SELECT storage_key, kek_id, octet_length(wrapped_key) AS wrapped, media_type FROM document_versions WHERE document_id = $1`, [view.id]);
    expect(row.kek_id).toBe(t.app.get(KeyRing).activeKekId());
    expect(row.wrapped).toBe(60);
    const raw = await readObject(t.s3, row.storage_key);
    expect(raw.includes(plain.subarray(0, 32))).toBe(false);
    expect(raw.subarray(0, 16).equals(plain.subarray(0, 16))).toBe(false);
    expect(raw.length).toBe(plain.length + 16);

    const events = await auditEvents(t.databaseUrl, 'target_id = $1', [view.id]);
    expect(events).toEqual([expect.objectContaining({ action: 'document.create', outcome: 'allowed', actor_id: alice.id })]);
  });

  it('accepts the file part before the fields', async () => {
    const plain = randomBytes(1000);
    const view = await upload(alice, fields({ title: 'file first' }), plain, 'a.bin', { fileFirst: true });
    expect(view.sha256).toBe(sha(plain));
  });

  it('round-trips a multi-chunk file and audits the download before returning the stream', async () => {
    const plain = randomBytes(2.5 * 1024 * 1024);
    const view = await upload(alice, fields({ classification: 'INTERNAL' }), plain, 'データ.bin');
    const d = await docs.download(alice, view.id);
    const events = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.download'", [view.id]);
    expect(events).toEqual([expect.objectContaining({ outcome: 'allowed' })]);
    expect(d).toMatchObject({ filename: 'データ.bin', classification: 'INTERNAL', stamped: false, version: 1 });
    const back = await drain(d.body);
    expect(sha(back)).toBe(view.sha256);
    const [doc] = await sql<{ last_accessed_at: Date | null }>(t.databaseUrl, 'SELECT last_accessed_at FROM documents WHERE id = $1', [view.id]);
    expect(doc.last_accessed_at).not.toBeNull();
  });

  it('aborts a download of a tampered object and records integrity.failed', async () => {
    const plain = randomBytes(2.2 * 1024 * 1024);
    const view = await upload(alice, fields(), plain);
    const [row] = await sql<{ storage_key: string }>(t.databaseUrl, 'SELECT storage_key FROM document_versions WHERE document_id = $1', [view.id]);
    const raw = await readObject(t.s3, row.storage_key);
    raw[1024 * 1024 + 100] ^= 0xff; // inside the second chunk
    await minio(t.s3).putObject(t.s3.bucket, row.storage_key, raw);
    const d = await docs.download(alice, view.id);
    await expect(drain(d.body)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    const failed = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'integrity.failed'", [view.id]);
    expect(failed).toEqual([expect.objectContaining({ outcome: 'failed', details: expect.objectContaining({ version: 1, chunk: 1 }) })]);
  });

  it('refuses a download whose object is gone, and a restore from a tampered version, recording integrity.failed', async () => {
    const view = await upload(alice, fields({ title: 'gone' }), randomBytes(3000));
    const [row] = await sql<{ storage_key: string }>(t.databaseUrl, 'SELECT storage_key FROM document_versions WHERE document_id = $1', [view.id]);
    const raw = await readObject(t.s3, row.storage_key);
    await minio(t.s3).removeObject(t.s3.bucket, row.storage_key);
    await expectDomainError(docs.download(alice, view.id), ErrorCode.IntegrityFailed);
    raw[10] ^= 1;
    await minio(t.s3).putObject(t.s3.bucket, row.storage_key, raw);
    await docs.addVersion(alice, view.id, '"v1"', multipart([], { filename: 'v2.bin', content: randomBytes(10) }));
    const before = await counts();
    await expectDomainError(docs.restore(alice, view.id, 1, undefined), ErrorCode.IntegrityFailed);
    expect(await counts()).toEqual(before);
    const failed = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'integrity.failed'", [view.id]);
    expect(failed).toHaveLength(2);
    const downloads = await auditEvents(t.databaseUrl, "target_id = $1 AND action = 'document.download' AND outcome = 'allowed'", [view.id]);
    expect(downloads).toHaveLength(0);
  });

  it('re-reads a version for fixity: the plaintext SHA-256, or an integrity error when tampered', async () => {
    const plain = randomBytes(2 * 1024 * 1024 + 5);
    const view = await upload(alice, fields({ title: 'fixity' }), plain);
    const [row] = await sql<{ id: string; storage_key: string }>(t.databaseUrl, 'SELECT id, storage_key FROM document_versions WHERE document_id = $1', [view.id]);
    const digests = t.app.get(VersionDigestService);
    await expect(digests.sha256(row.id)).resolves.toBe(sha(plain));
    const raw = await readObject(t.s3, row.storage_key);
    await minio(t.s3).putObject(t.s3.bucket, row.storage_key, raw.subarray(0, raw.length - 16));
    await expect(digests.sha256(row.id)).rejects.toThrow(/failed authentication/);
  });

  it('answers 400 for a seriesId the file plan does not know (foreign key added by retention), nothing left behind', async () => {
    // record_series and fk_documents_series come from the retention migrations.
    const before = await counts();
    const err = await expectDomainError(upload(alice, fields({ seriesId: randomUUID() }), randomBytes(100)), ErrorCode.Validation);
    expect(err.extensions).toEqual({ errors: [{ field: 'seriesId', messages: ['seriesId names no series'] }] });
    expect(await counts()).toEqual(before);
    const view = await upload(alice, fields({ title: 'no series yet' }), randomBytes(100));
    // Assigning a series is the records officers' act; staff are refused before the file plan is asked.
    await expectDomainError(docs.update(alice, view.id, { seriesId: randomUUID() }), ErrorCode.Forbidden);
    const officer = actor({ username: 'series-officer', roles: [Role.RecordsOfficer], clearance: 3, departments: [] });
    await expectDomainError(docs.update(officer, view.id, { seriesId: randomUUID() }), ErrorCode.Validation);
  });

  it('garbage-collects the object when the metadata transaction fails', async () => {
    const before = await counts();
    const audit = t.app.get(AuditService);
    const spy = jest.spyOn(audit, 'append').mockRejectedValueOnce(new Error('simulated audit failure'));
    await expect(upload(alice, fields(), randomBytes(5000))).rejects.toThrow('simulated audit failure');
    spy.mockRestore();
    expect(await counts()).toEqual(before);
  });

  it('answers a file over the maximum with 413 and leaves no object and no row', async () => {
    const before = await counts();
    const big = randomBytes(4 * 1024 * 1024);
    await expectDomainError(upload(alice, fields(), big), ErrorCode.PayloadTooLarge);
    await expectDomainError(upload(alice, fields(), big, 'x.bin', { fileFirst: true }), ErrorCode.PayloadTooLarge);
    expect(await counts()).toEqual(before);
  });

  it.each<[string, FieldList, Buffer | undefined, string | Buffer]>([
    ['an empty file', fields(), Buffer.alloc(0), 'e.txt'],
    ['no file', fields(), undefined, 'x'],
    ['a missing title', fields({ title: undefined }), Buffer.from('x'), 'a.txt'],
    ['a missing department', fields({ department: undefined }), Buffer.from('x'), 'a.txt'],
    ['an unknown classification', fields({ classification: 'TOP-SECRET' }), Buffer.from('x'), 'a.txt'],
    ['classification 4', fields({ classification: '4' }), Buffer.from('x'), 'a.txt'],
    ['an unknown kind', fields({ kind: 'memo' }), Buffer.from('x'), 'a.txt'],
    ['an unknown field', [...fields(), ['owner', 'me']], Buffer.from('x'), 'a.txt'],
    ['a bad reviewDueAt', fields({ reviewDueAt: 'tomorrow' }), Buffer.from('x'), 'a.txt'],
    ['a parent path', fields(), Buffer.from('x'), '../etc/passwd'],
    ['a slash', fields(), Buffer.from('x'), 'dir/a.txt'],
    ['a backslash', fields(), Buffer.from('x'), 'C:\\temp\\a.txt'],
    ['a NUL', fields(), Buffer.from('x'), 'a\u0000.txt'],
    ['a control character', fields(), Buffer.from('x'), 'a\u0007b.txt'],
    ['a non-UTF-8 name', fields(), Buffer.from('x'), Buffer.from([0x61, 0xff, 0xfe, 0x2e, 0x74])],
    ['a dot-dot name', fields(), Buffer.from('x'), '..'],
  ])('rejects %s with a validation error and writes nothing', async (_label, f, content, filename) => {
    const before = await counts();
    const body = content === undefined ? multipart(f) : multipart(f, { filename, content });
    await expectDomainError(docs.create(alice, body), ErrorCode.Validation);
    expect(await counts()).toEqual(before);
  });

  it('refuses a non-multipart body with 415', async () => {
    await expectDomainError(docs.create(alice, { contentType: 'application/json', body: Readable.from([Buffer.from('{}')]) }), ErrorCode.UnsupportedMediaType);
  });

  it('denies creation above clearance or outside the departments, audited, nothing stored', async () => {
    const before = await counts();
    await expectDomainError(upload(alice, fields({ classification: 'SECRET' }), Buffer.from('x')), ErrorCode.Forbidden);
    await expectDomainError(upload(alice, fields({ department: 'legal' }), Buffer.from('x'), 'a.txt', { fileFirst: true }), ErrorCode.Forbidden);
    await expectDomainError(upload(alice, fields({ personalData: 'specific' }), Buffer.from('x')), ErrorCode.Forbidden);
    expect(await counts()).toEqual(before);
    const denied = await auditEvents(t.databaseUrl, "action = 'document.create' AND outcome = 'denied' AND actor_id = $1", [alice.id]);
    expect(denied).toHaveLength(3);
  });

  describe('versions', () => {
    it('needs If-Match (428), refuses a stale one (412) writing nothing, then versions and restores', async () => {
      const v1 = randomBytes(3000);
      const view = await upload(alice, fields({ title: 'versioned' }), v1, 'v1.bin');
      const f = (c: Buffer) => multipart([['comment', 'second draft']], { filename: 'v2.bin', content: c });
      await expectDomainError(docs.addVersion(alice, view.id, undefined, f(randomBytes(10))), ErrorCode.PreconditionRequired);
      const before = await counts();
      await expectDomainError(docs.addVersion(alice, view.id, '"v7"', f(randomBytes(10))), ErrorCode.PreconditionFailed);
      expect(await counts()).toEqual(before);

      const v2 = randomBytes(4000);
      const second = await docs.addVersion(alice, view.id, '"v1"', f(v2));
      expect(second).toMatchObject({ etag: '"v2"', document: { version: 2, sha256: sha(v2), size: 4000 } });
      await expectDomainError(docs.addVersion(alice, view.id, '"v1"', f(randomBytes(10))), ErrorCode.PreconditionFailed);

      const restored = await docs.restore(alice, view.id, 1, '"v2"');
      expect(restored).toMatchObject({ etag: '"v3"', document: { version: 3, sha256: sha(v1) } });
      const { items } = await docs.listVersions(alice, view.id);
      expect(items.map((v) => [v.number, v.sha256, v.restoredFrom, v.comment])).toEqual([
        [1, sha(v1), null, null],
        [2, sha(v2), null, 'second draft'],
        [3, sha(v1), 1, 'restored from version 1'],
      ]);
      expect(sha(await drain((await docs.download(alice, view.id, 2)).body))).toBe(sha(v2));
      expect(sha(await drain((await docs.download(alice, view.id)).body))).toBe(sha(v1));
      const actions = (await auditEvents(t.databaseUrl, "target_id = $1 AND outcome = 'allowed'", [view.id])).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['document.create', 'document.version', 'document.restore']));
    });

    it('lets only one of two writers holding the same ETag win', async () => {
      const view = await upload(alice, fields({ title: 'race' }), randomBytes(100));
      const f = () => multipart([], { filename: 'r.bin', content: randomBytes(2000) });
      const results = await Promise.allSettled([docs.addVersion(alice, view.id, '"v1"', f()), docs.addVersion(alice, view.id, '"v1"', f())]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((loser.reason as DomainError).code).toBe(ErrorCode.PreconditionFailed);
      const objects = (await objectKeys(t.s3)).filter((k) => k.startsWith(`documents/${view.id}/`));
      expect(objects).toHaveLength(2);
    });

    it('keeps versions immutable in the database', async () => {
      const view = await upload(alice, fields({ title: 'immutable' }), randomBytes(100));
      await expect(sql(t.databaseUrl, `UPDATE document_versions SET sha256 = repeat('0', 64) WHERE document_id = $1`, [view.id])).rejects.toThrow(/immutable/);
      await expect(sql(t.databaseUrl, `DELETE FROM document_versions WHERE document_id = $1`, [view.id])).rejects.toThrow(/immutable/);
    });
  });

  describe('visibility', () => {
    const mn = handler({ username: 'mn', departments: ['hr'] });
    const hrStaff = actor({ username: 'hr-staff', departments: ['hr'] });
    let specificId: string;
    beforeAll(async () => {
      specificId = (await upload(mn, fields({ title: 'My Number register', department: 'hr', classification: 'SECRET', personalData: 'specific' }), randomBytes(100))).id;
    });

    it('hides specific documents from non-handlers: 404 identical to a missing one, audited denied', async () => {
      const hidden = await expectDomainError(docs.get(hrStaff, specificId), ErrorCode.NotFound);
      const missing = await expectDomainError(docs.get(hrStaff, randomUUID()), ErrorCode.NotFound);
      expect(hidden.detail).toBe(missing.detail);
      expect(hidden.extensions).toEqual(missing.extensions);
      const denied = await auditEvents(t.databaseUrl, "target_id = $1 AND outcome = 'denied'", [specificId]);
      expect(denied).toEqual([expect.objectContaining({ action: 'document.read', actor_id: hrStaff.id })]);
      const page = await docs.list(hrStaff, {});
      expect(page.items.map((i) => i.id)).not.toContain(specificId);
      expect((await docs.list(mn, {})).items.map((i) => i.id)).toContain(specificId);
    });

    it('filters the list in SQL with the caller’s rules and the query filters, audited with the filter', async () => {
      const bob = actor({ username: 'bob', departments: ['sales'], clearance: 1 });
      const mine = await upload(bob, fields({ title: 'Sales playbook', department: 'sales', classification: 'INTERNAL', kind: 'procedure' }), randomBytes(10));
      await upload(bob, [...fields({ title: 'Sales record', department: 'sales', classification: 'PUBLIC', kind: 'record' }), ['tags', 'q3']], randomBytes(10));
      const page = await docs.list(bob, { department: 'sales' });
      expect(page.items.map((i) => i.title).sort()).toEqual(['Sales playbook', 'Sales record']);
      expect((await docs.list(bob, { tag: 'q3' })).items.map((i) => i.title)).toEqual(['Sales record']);
      expect((await docs.list(bob, { q: 'PLAYBOOK' })).items.map((i) => i.id)).toEqual([mine.id]);
      expect((await docs.list(bob, { q: '%' })).total).toBe(0);
      // Finance CONFIDENTIAL documents are invisible to bob; finance PUBLIC ones are not.
      expect((await docs.list(bob, { department: 'finance', classification: 2 })).total).toBe(0);
      t.clock.advance(400 * 86400_000);
      try {
        expect((await docs.list(bob, { reviewOverdue: true })).items.map((i) => i.id)).toEqual([mine.id]);
      } finally {
        t.clock.advance(-400 * 86400_000);
      }
      const [last] = (await auditEvents(t.databaseUrl, "action = 'document.list' AND actor_id = $1", [bob.id])).slice(-1);
      expect(last.details).toMatchObject({ filter: { reviewOverdue: true }, total: 1 });
    });
  });

  describe('metadata', () => {
    const officer = actor({ username: 'officer', roles: [Role.RecordsOfficer], clearance: 3, departments: [] });
    it('updates, reclassifies (owner up, officer down), refuses a staff downgrade, all audited', async () => {
      const view = await upload(alice, fields({ title: 'to patch', classification: 'INTERNAL' }), randomBytes(10));
      const updated = await docs.update(alice, view.id, { title: 'patched', tags: ['a', 'a', 'b'] });
      expect(updated.document).toMatchObject({ title: 'patched', tags: ['a', 'b'], classification: 'INTERNAL' });
      await docs.update(alice, view.id, { classification: 2 });
      await expectDomainError(docs.update(alice, view.id, { classification: 1 }), ErrorCode.Forbidden);
      await expectDomainError(docs.update(alice, view.id, { classification: 3 }), ErrorCode.Forbidden); // above her clearance
      await expectDomainError(docs.update(actor({ roles: [Role.Auditor] }), view.id, { title: 'auditor edit' }), ErrorCode.Forbidden);
      await docs.update(officer, view.id, { title: 'officer edit' });
      const down = await docs.update(officer, view.id, { classification: 0 });
      expect(down.document.classification).toBe('PUBLIC');
      const events = (await auditEvents(t.databaseUrl, "target_id = $1 AND action IN ('document.update', 'document.reclassify')", [view.id])).map((e) => [e.action, e.outcome, e.details.from ?? null, e.details.to ?? null]);
      expect(events).toEqual([
        ['document.update', 'allowed', null, null],
        ['document.reclassify', 'allowed', 'INTERNAL', 'CONFIDENTIAL'],
        ['document.reclassify', 'denied', 'CONFIDENTIAL', 'INTERNAL'],
        ['document.reclassify', 'denied', 'CONFIDENTIAL', 'SECRET'],
        ['document.update', 'denied', null, null],
        ['document.update', 'allowed', null, null],
        ['document.reclassify', 'allowed', 'CONFIDENTIAL', 'PUBLIC'],
      ]);
    });

    it('serves the inventory to records officers only, without specific documents for non-handlers', async () => {
      const items = await docs.inventory(officer, { format: 'json' });
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((i) => i.personalData !== 'specific')).toBe(true);
      expect(items[0]).toEqual(expect.objectContaining({ versions: expect.any(Number), size: expect.any(Number), classification: expect.any(String) }));
      await expectDomainError(docs.inventory(alice, {}), ErrorCode.Forbidden);
    });
  });

  describe('labelled PDFs', () => {
    async function pdf(pages: number): Promise<Buffer> {
      const doc = await PDFDocument.create();
      const font = await doc.embedFont(StandardFonts.Helvetica);
      for (let i = 0; i < pages; i++) doc.addPage([595, 842]).drawText(`Body text page ${i + 1}`, { x: 72, y: 400, size: 14, font });
      return Buffer.from(await doc.save());
    }

    it('stamps every page of a classified PDF with the label, id, version, downloader and time', async () => {
      const original = await pdf(2);
      // Declared as octet-stream: the label decision trusts the bytes, not the client.
      const view = await upload(alice, fields({ title: 'labelled' }), original, '規程.pdf');
      const d = await docs.download(alice, view.id);
      expect(d).toMatchObject({ stamped: true, mediaType: 'application/pdf', classification: 'CONFIDENTIAL' });
      const stamped = await drain(d.body);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'kura-pdf-'));
      const file = path.join(dir, 'stamped.pdf');
      writeFileSync(file, stamped);
      const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString('utf8');
      const pages = text.split('\f').filter((p) => p.trim());
      expect(pages).toHaveLength(2);
      for (const page of pages) {
        expect(page).toContain('秘 CONFIDENTIAL');
        expect(page).toContain(view.id);
        expect(page).toContain('v1');
        expect(page).toContain('alice');
        expect(page).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/);
      }
      execFileSync('pdftoppm', ['-png', '-r', '30', '-f', '1', '-l', '1', file, path.join(dir, 'page')]);
    });

    it('does not stamp PUBLIC PDFs', async () => {
      const original = await pdf(1);
      const view = await upload(alice, fields({ title: 'public pdf', classification: 'PUBLIC' }), original, 'p.pdf');
      const d = await docs.download(alice, view.id);
      expect(d.stamped).toBe(false);
      expect((await drain(d.body)).equals(original)).toBe(true);
    });

    it('refuses to serve a classified PDF it cannot label', async () => {
      const view = await upload(alice, fields({ title: 'broken pdf' }), Buffer.from('%PDF-1.7 this is not really a pdf'), 'b.pdf');
      await expectDomainError(docs.download(alice, view.id), ErrorCode.UnsupportedMediaType);
    });
  });

  describe(KeyRotationService.name, () => {
    it('re-wraps every data key under a new KEK without touching content, then retires the old KEK', async () => {
      const rotation = t.app.get(KeyRotationService);
      const ring = t.app.get(KeyRing);
      const plain = randomBytes(5000);
      const view = await upload(alice, fields({ title: 'rotated' }), plain);
      const oldKek = ring.activeKekId();
      const etagsBefore = await Promise.all((await objectKeys(t.s3)).map(async (k) => [k, (await minio(t.s3).statObject(t.s3.bucket, k)).etag]));
      await expectDomainError(rotation.retire('test', oldKek), ErrorCode.Conflict);

      const result = await rotation.rotate('test', 3);
      expect(result.kekId).not.toBe(oldKek);
      expect(result.failed).toBe(0);
      expect(result.remaining).toEqual({ [result.kekId]: expect.any(Number) });
      const etagsAfter = await Promise.all((await objectKeys(t.s3)).map(async (k) => [k, (await minio(t.s3).statObject(t.s3.bucket, k)).etag]));
      expect(etagsAfter).toEqual(etagsBefore);

      await rotation.retire('test', oldKek);
      expect(ring.kekIds()).toEqual([result.kekId]);
      expect(sha(await drain((await docs.download(alice, view.id)).body))).toBe(sha(plain));
      const keyEvents = (await auditEvents(t.databaseUrl, "action LIKE 'key.%'")).map((e) => [e.action, e.outcome]);
      expect(keyEvents).toEqual([
        ['key.retire', 'denied'],
        ['key.rotate', 'allowed'],
        ['key.rewrap', 'allowed'],
        ['key.retire', 'allowed'],
      ]);
    });

    it('is driven by `npm run cli -- keys …` (status, rotate, retire, usage)', async () => {
      const lines: string[] = [];
      const out = (l: string) => lines.push(l);
      const ring = t.app.get(KeyRing);
      const before = ring.activeKekId();
      expect(await runKeysCommand(['status'], t.app, out)).toBe(0);
      expect(JSON.parse(lines.pop() as string)).toMatchObject({ active: before, keks: expect.arrayContaining([expect.objectContaining({ id: before })]) });
      expect(await runKeysCommand(['rotate', '--batch', '2'], t.app, out)).toBe(0);
      const rotated = JSON.parse(lines.pop() as string) as { kekId: string; failed: number };
      expect(rotated).toMatchObject({ failed: 0 });
      expect(ring.activeKekId()).toBe(rotated.kekId);
      expect(await runKeysCommand(['retire', before], t.app, out)).toBe(0);
      expect(ring.kekIds()).not.toContain(before);
      await expect(runKeysCommand(['rotate', '--batch', 'x'], t.app, out)).rejects.toThrow(/--batch/);
      expect(await runKeysCommand(['frobnicate'], t.app, out)).toBe(2);
      const events = await auditEvents(t.databaseUrl, "action = 'key.retire' AND outcome = 'allowed'");
      expect(events.length).toBeGreaterThan(0);
    });
  });
});
