import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AUDIT_CSV_COLUMNS, AuditEventView, AuditExportService, AuditRepository, AuditService, eventHash, GENESIS_HASH } from '@kura/audit';
import { canonicalJson } from '@kura/common';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, recordEvents } from './support/audit';
import { createUser, loginAdmin, TestUser } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const PROBLEM = /^application\/problem\+json/;
const DISPOSITION = (ext: string) => new RegExp(`^attachment; filename="audit-events-\\d{8}T\\d{6}Z\\.${ext}"$`);

interface AuditRow {
  seq: string;
  actor_id: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

/** The body as bytes, whatever the content type (supertest parses only what it knows). */
function raw(req: request.Test): request.Test {
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

/** A strict RFC 4180 reader: quoted fields may hold commas, CRLF and doubled quotes; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`a bare line break outside quotes at ${i}`);
    } else field += c;
  }
  if (field !== '' || row.length || quoted) throw new Error('the last record is not CRLF-terminated');
  return rows;
}

const parseJsonl = (body: Buffer): AuditEventView[] => {
  const text = body.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditEventView);
};

async function pdfText(pdf: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-audit-pdf-'));
  try {
    const file = path.join(dir, 'report.pdf');
    await writeFile(file, pdf);
    const { stdout } = await promisify(execFile)('pdftotext', ['-enc', 'UTF-8', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CRAFTED_ACTOR = { id: '00000000-0000-4000-8000-0000000c5a11', username: '=HYPERLINK("x")' };
const CRAFTED_TARGET = '-1,"quoted",\r\nnext line 監査ログ';

describe('GET /audit/events exports (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let auditor: TestUser;
  let staff: TestUser;
  let crafted: { seq: number };

  const exportsSince = (seq: number): Promise<AuditRow[]> =>
    db.query(`SELECT seq::text AS seq, actor_id, outcome, details FROM audit_events WHERE seq > $1 AND action = 'audit.events.export' ORDER BY seq`, [seq]);
  const events = (query: Record<string, string | number>, token = auditor.token) => raw(request(t.http).get('/api/v1/audit/events').query(query).set(bearer(token)));
  const asJson = async (query: Record<string, string>): Promise<AuditEventView[]> =>
    ((await request(t.http).get('/api/v1/audit/events').query({ ...query, pageSize: 500 }).set(bearer(auditor.token)).expect(200)).body as { items: AuditEventView[] }).items;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    const admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { username: 'auditor.exp', roles: ['auditor'], clearance: 'SECRET', departments: [] });
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
    const audit = t.app.get(AuditService);
    for (let i = 0; i < 7; i++) {
      await audit.record({
        actor: { id: '00000000-0000-4000-8000-000000000001', username: 'alice' },
        action: 'exporttest.event',
        targetType: 'Document',
        targetId: `doc-${i % 3}`,
        outcome: i % 3 === 0 ? 'denied' : 'allowed',
        details: { i, note: `événement ${i} 監査` },
      });
      // Distinct database timestamps for the from/to cases.
      await new Promise((r) => setTimeout(r, 5));
    }
    const e = await t.app.get(AuditService).record({
      actor: CRAFTED_ACTOR,
      action: 'exporttest.crafted',
      targetType: 'Document',
      targetId: CRAFTED_TARGET,
      outcome: 'denied',
      details: { note: '+SUM(A1:A9)', quote: 'say "hi", then\nleave' },
    });
    crafted = { seq: Number(e.seq) };
  });
  afterAll(async () => {
    await t.close();
  });

  afterEach(() => {
    jest.restoreAllMocks();
    t.app.get(AuditExportService).batchSize = 1_000;
  });

  describe('csv', () => {
    it('streams every matching event as RFC 4180 CSV with a header, in chain order, as a download', async () => {
      const res = await events({ format: 'csv', action: 'exporttest.event' }).expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(DISPOSITION('csv'));
      expect(res.headers['cache-control']).toBe('no-store');
      const text = (res.body as Buffer).toString('utf8');
      // No byte order mark: the media type's charset names the encoding, and strict RFC 4180 parsers read a BOM as data.
      expect(text.startsWith('seq,')).toBe(true);
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
      const json = await asJson({ action: 'exporttest.event' });
      expect(json).toHaveLength(7);
      // The same events as the json view, field for field (nulls are empty cells, details its canonical JSON text).
      expect(rows).toEqual(
        json.map((e) => AUDIT_CSV_COLUMNS.map((c) => (e[c] === null ? '' : c === 'details' ? canonicalJson(e.details) : String(e[c])))),
      );
    });

    it('quotes commas, quotes and line breaks, keeps Japanese, and neutralises spreadsheet formulas', async () => {
      const res = await events({ format: 'csv', action: 'exporttest.crafted' }).expect(200);
      const text = (res.body as Buffer).toString('utf8');
      const rows = parseCsv(text);
      expect(rows).toHaveLength(2);
      const row = Object.fromEntries(AUDIT_CSV_COLUMNS.map((c, i) => [c, rows[1][i]]));
      expect(row).toMatchObject({
        seq: String(crafted.seq),
        actorId: CRAFTED_ACTOR.id,
        // A cell starting with = or - would run as a formula in a spreadsheet: a leading apostrophe makes it text.
        actorName: `'${CRAFTED_ACTOR.username}`,
        targetId: `'${CRAFTED_TARGET}`,
        outcome: 'denied',
        details: canonicalJson({ note: '+SUM(A1:A9)', quote: 'say "hi", then\nleave' }),
      });
      // Byte for byte: quotes doubled, the field with CR LF quoted whole.
      expect(text).toContain(`,"'=HYPERLINK(""x"")",`);
      expect(text).toContain(`,"'-1,""quoted"",\r\nnext line 監査ログ",`);
      // No other cell of the export begins with a formula character.
      for (const r of rows) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    });
  });

  describe('jsonl', () => {
    it('streams one JSON object per line, every field, and each line recomputes to its own hash and links to the one before', async () => {
      // Small batches, so the keyset paging crosses many batch boundaries.
      t.app.get(AuditExportService).batchSize = 3;
      const batch = jest.spyOn(t.app.get(AuditRepository), 'exportBatch');
      const before = await lastSeq(t);
      const res = await events({ format: 'jsonl' }).expect(200);
      expect(res.headers['content-type']).toBe('application/jsonl');
      expect(res.headers['content-disposition']).toMatch(DISPOSITION('jsonl'));
      const lines = parseJsonl(res.body as Buffer);
      // The whole trail up to this request's snapshot: seq 1 to the event just before the export's own.
      expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: before }, (_, i) => i + 1));
      expect(batch.mock.calls.length).toBe(Math.floor(before / 3) + 1);
      expect(Object.keys(lines[0]).sort()).toEqual([...AUDIT_CSV_COLUMNS].sort());
      expect(lines[0].prevHash).toBe(GENESIS_HASH);
      lines.forEach((e, i) => {
        // What an auditor does outside Kura: recompute each hash from the exported fields.
        expect(eventHash({ ...e, seq: String(e.seq), at: new Date(e.at) })).toBe(e.hash);
        if (i > 0) expect(e.prevHash).toBe(lines[i - 1].hash);
      });
      expect(lines.find((e) => e.seq === crafted.seq)).toMatchObject({ actorName: CRAFTED_ACTOR.username, targetId: CRAFTED_TARGET });
    });

    it.each([
      ['outcome', { outcome: 'denied' }],
      ['action', { action: 'exporttest.event' }],
      ['actor and targetId', { actor: '00000000-0000-4000-8000-000000000001', targetId: 'doc-1' }],
      ['actor by username', { actor: CRAFTED_ACTOR.username }],
    ])('applies the %s filter exactly like the json view', async (_what, filter) => {
      const res = await events({ format: 'jsonl', ...filter }).expect(200);
      const lines = parseJsonl(res.body as Buffer);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines).toEqual(await asJson(filter));
    });

    it('applies from (inclusive) and to (exclusive)', async () => {
      const all = await asJson({ action: 'exporttest.event' });
      const from = all[2].at;
      const to = all[5].at;
      const lines = parseJsonl((await events({ format: 'jsonl', action: 'exporttest.event', from, to }).expect(200)).body as Buffer);
      expect(lines).toEqual(all.filter((e) => e.at >= from && e.at < to));
      expect(lines.length).toBeGreaterThan(0);
      const none = await events({ format: 'jsonl', action: 'exporttest.event', from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' }).expect(200);
      expect((none.body as Buffer).length).toBe(0);
    });
  });

  describe('pdf', () => {
    it('renders a report for people: bilingual title, who and when, filters, count and the table', async () => {
      const res = await events({ format: 'pdf', action: 'exporttest.crafted' }).expect(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toMatch(DISPOSITION('pdf'));
      const pdf = res.body as Buffer;
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const text = await pdfText(pdf);
      expect(text).toContain('監査ログ');
      expect(text).toContain('Audit log');
      expect(text).toContain('exporttest.crafted');
      expect(text).toContain(auditor.username);
      expect(text).toContain('action=exporttest.crafted');
      expect(text).toMatch(/Events: 1\b/);
      expect(text).toContain(String(crafted.seq));
    });

    it('spreads a long table over several pages, each numbered', async () => {
      await recordEvents(t, 120, 'pagetest');
      const res = await events({ format: 'pdf', action: 'pagetest.event' }).expect(200);
      const text = await pdfText(res.body as Buffer);
      // pdftotext ends every page with a form feed.
      const pages = text.split('\f').slice(0, -1);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      pages.forEach((page, i) => expect(page).toContain(`${i + 1} / ${pages.length}`));
      expect(text).toContain('Events: 120');
      // One per row, and once in the filters line.
      expect(text.match(/pagetest\.event/g)?.length).toBe(121);
    });
  });

  it('audits the export with its format, filters and count before sending it, in its own event', async () => {
    const before = await lastSeq(t);
    const res = await events({ format: 'jsonl', outcome: 'denied', action: 'exporttest.event' }).expect(200);
    const lines = parseJsonl(res.body as Buffer);
    const exported = await exportsSince(before);
    expect(exported).toEqual([
      {
        seq: String(before + 1),
        actor_id: auditor.id,
        outcome: 'allowed',
        details: { format: 'jsonl', filter: { outcome: 'denied', action: 'exporttest.event' }, count: lines.length, upToSeq: String(before) },
      },
    ]);
    // Nothing else was recorded for it (no paged read), and the export does not contain itself.
    expect(await db.query(`SELECT action FROM audit_events WHERE seq > $1`, [before])).toEqual([{ action: 'audit.events.export' }]);
    for (const format of ['csv', 'pdf']) {
      const seq = await lastSeq(t);
      await events({ format, action: 'exporttest.crafted' }).expect(200);
      await expect(exportsSince(seq)).resolves.toEqual([expect.objectContaining({ outcome: 'allowed', details: expect.objectContaining({ format, count: 1 }) })]);
    }
  });

  it('destroys the connection when the database fails mid-stream, after the export was recorded', async () => {
    t.app.get(AuditExportService).batchSize = 2;
    const repo = t.app.get(AuditRepository);
    const real = repo.exportBatch.bind(repo);
    let calls = 0;
    jest.spyOn(repo, 'exportBatch').mockImplementation(async (...args) => {
      if (++calls === 2) throw new Error('connection terminated');
      return real(...args);
    });
    const before = await lastSeq(t);
    await expect(events({ format: 'jsonl' })).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect(calls).toBe(2);
    await expect(exportsSince(before)).resolves.toEqual([expect.objectContaining({ outcome: 'allowed', details: expect.objectContaining({ format: 'jsonl' }) })]);
  });

  it.each(['csv', 'jsonl', 'pdf'])('answers a non-auditor 403 for %s, audits the denial, and exports nothing', async (format) => {
    const before = await lastSeq(t);
    const res = await events({ format }, staff.token);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.headers['content-disposition']).toBeUndefined();
    const after = (await db.query(`SELECT action, outcome, actor_id FROM audit_events WHERE seq > $1`, [before])) as unknown[];
    expect(after).toEqual([{ action: 'access.denied', outcome: 'denied', actor_id: staff.id }]);
  });

  it.each([
    ['an unsupported format', { format: 'xml' }, 'format'],
    ['an unknown outcome', { format: 'csv', outcome: 'maybe' }, 'outcome'],
    ['a from that is not ISO 8601', { format: 'jsonl', from: 'yesterday' }, 'from'],
    ['a from after to', { format: 'pdf', from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }, 'from'],
    ['a page on an export', { format: 'csv', page: 2 }, 'page'],
    ['a pageSize on an export', { format: 'jsonl', pageSize: 10 }, 'pageSize'],
  ])('answers %s with a 400 problem naming the field, and exports nothing', async (_what, query, field) => {
    const before = await lastSeq(t);
    const res = await request(t.http).get('/api/v1/audit/events').query(query).set(bearer(auditor.token));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await lastSeq(t)).toBe(before);
  });

  it('lists every format in the OpenAPI document', async () => {
    const doc = (await request(t.http).get('/api/docs-json').expect(200)).body as {
      paths: Record<string, { get: { parameters: Array<{ name: string; schema: { enum?: string[] } }> } }>;
    };
    const format = doc.paths['/api/v1/audit/events'].get.parameters.find((p) => p.name === 'format');
    expect(format?.schema.enum).toEqual(['json', 'csv', 'jsonl', 'pdf']);
  });
});

describe('GET /audit/events?format=pdf above the cap (e2e)', () => {
  let t: TestApp;
  let auditor: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_EXPORT_PDF_MAX_EVENTS: '3' } });
    const admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { roles: ['auditor'], departments: [] });
    await recordEvents(t, 4, 'captest');
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a PDF of more events than the cap with 413, saying how to narrow it, records the refusal, and sends nothing', async () => {
    const before = await lastSeq(t);
    const res = await request(t.http).get('/api/v1/audit/events').query({ format: 'pdf', action: 'captest.event' }).set(bearer(auditor.token));
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.body).toMatchObject({ status: 413, detail: expect.stringMatching(/4 events match.*3.*[Nn]arrow the filters.*csv or jsonl/) });
    const recorded = (await t.app.get(DataSource).query(`SELECT action, outcome, actor_id, details FROM audit_events WHERE seq > $1`, [before])) as unknown[];
    expect(recorded).toEqual([
      {
        action: 'audit.events.export',
        outcome: 'failed',
        actor_id: auditor.id,
        details: { format: 'pdf', filter: { action: 'captest.event' }, count: 4, upToSeq: String(before), reason: 'too-many-events-for-pdf', limit: 3 },
      },
    ]);
    // At the cap it is fine, and csv is not capped.
    await raw(request(t.http).get('/api/v1/audit/events').query({ format: 'pdf', action: 'captest.event', outcome: 'allowed' }).set(bearer(auditor.token))).expect(200);
    const csv = await raw(request(t.http).get('/api/v1/audit/events').query({ format: 'csv', action: 'captest.event' }).set(bearer(auditor.token))).expect(200);
    expect(parseCsv((csv.body as Buffer).toString('utf8'))).toHaveLength(5);
  });
});
