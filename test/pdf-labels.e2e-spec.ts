import { execFile } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { degrees, PDFDocument, StandardFonts } from 'pdf-lib';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { auditEvents } from './support/documents';

jest.setTimeout(180_000);

const run = promisify(execFile);
const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });
const binary = (r: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const parts: Buffer[] = [];
  r.on('data', (c: Buffer) => parts.push(c));
  r.on('end', () => cb(null, Buffer.concat(parts)));
};

/** Pages of several sizes and /Rotate values: the label must stay upright and legible on each. */
const PAGES: Array<{ size: [number, number]; rotate: number }> = [
  { size: [595, 842], rotate: 0 }, // A4 portrait
  { size: [792, 612], rotate: 0 }, // US Letter landscape
  { size: [595, 842], rotate: 90 },
  { size: [420, 595], rotate: 180 }, // A5
  { size: [612, 792], rotate: 270 },
];

async function samplePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  PAGES.forEach(({ size, rotate }, i) => {
    const page = doc.addPage(size);
    page.setRotation(degrees(rotate));
    page.drawText(`Body ${i + 1}`, { x: size[0] / 3, y: size[1] / 2, size: 12, font });
  });
  return Buffer.from(await doc.save());
}

/**
 * A CONFIDENTIAL PDF whose object stream inflates (FlateDecode applied twice) from a few
 * hundred bytes to `inflated` bytes: the classic decompression bomb, kept small enough that
 * CI is safe even if the limits failed.
 */
function decompressionBomb(inflated: number): Buffer {
  const payload = deflateSync(deflateSync(Buffer.alloc(inflated, 0x20), { level: 9 }), { level: 9 });
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  const offsets: number[] = [];
  let at = parts[0].length;
  const push = (b: Buffer) => {
    parts.push(b);
    at += b.length;
  };
  objects.forEach((o, i) => {
    offsets.push(at);
    push(Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`));
  });
  offsets.push(at);
  push(Buffer.from(`4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode] /Length ${payload.length} >>\nstream\n`));
  push(payload);
  push(Buffer.from('\nendstream\nendobj\n'));
  const xref = at;
  const rows = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  push(Buffer.from(`xref\n0 5\n0000000000 65535 f \n${rows}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`));
  return Buffer.concat(parts);
}

describe('Labelled PDFs (e2e)', () => {
  let t: TestApp;
  let hanako: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { PDF_STAMP_MAX_DECODED_BYTES: String(16 * 1024 * 1024) } });
    const admin = await loginAdmin(t.http);
    hanako = await createUser(t.http, admin, { username: 'hanako', roles: ['staff'], clearance: 'SECRET', departments: ['finance'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const upload = (content: Buffer, filename: string, classification = 'CONFIDENTIAL', contentType?: string) =>
    request(t.http)
      .post('/api/v1/documents')
      .set(auth(hanako))
      .field('title', `labelled ${filename}`)
      .field('kind', 'record')
      .field('classification', classification)
      .field('department', 'finance')
      .attach('file', content, contentType ? { filename, contentType } : filename);
  const download = (id: string) => request(t.http).get(`/api/v1/documents/${id}/content`).set(auth(hanako)).buffer(true).parse(binary);

  describe('what a person sees', () => {
    let dir: string;
    let file: string;

    beforeAll(async () => {
      const res = await upload(await samplePdf(), 'pages.pdf').expect(201);
      const got = await download(res.body.id).expect(200);
      expect(got.headers['content-type']).toBe('application/pdf');
      dir = await mkdtemp(path.join(os.tmpdir(), 'kura-label-'));
      file = path.join(dir, 'stamped.pdf');
      await writeFile(file, got.body as Buffer);
    });

    it('MuPDF draws every glyph of the label and footer (no invalid outline, no missing glyph)', async () => {
      const { stderr } = await run('mutool', ['draw', '-q', '-o', path.join(dir, 'mu-%d.png'), '-r', '40', file], { maxBuffer: 16 * 1024 * 1024 });
      expect(stderr.split('\n').filter((l) => /invalid outline|cannot render glyph|FT_Load_Glyph/i.test(l))).toEqual([]);
    });

    it('OCR of each rendered page reads the classification in English and Japanese and the downloader', async () => {
      await run('pdftoppm', ['-png', '-r', '150', file, path.join(dir, 'page')]);
      const pages = (await readdir(dir)).filter((f) => f.startsWith('page')).sort();
      expect(pages).toHaveLength(PAGES.length);
      for (const page of pages) {
        const { stdout } = await run('tesseract', [path.join(dir, page), '-', '-l', 'jpn+eng', '--psm', '11'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
        const text = stdout.replace(/\s+/g, '');
        expect({ page, confidential: /CONFIDENTIAL/.test(text) }).toEqual({ page, confidential: true });
        expect({ page, ja: text.includes('秘') }).toEqual({ page, ja: true });
        expect({ page, downloader: text.includes('hanako') }).toEqual({ page, downloader: true });
      }
    });
  });

  describe('hostile PDFs', () => {
    it('refuses a decompression bomb with 422, audits it, and keeps the event loop and /health/live responsive', async () => {
      const bomb = decompressionBomb(64 * 1024 * 1024);
      expect(bomb.length).toBeLessThan(4096);
      const { body } = await upload(bomb, 'bomb.pdf').expect(201);

      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      let done = false;
      const pending = download(body.id).then((r) => {
        done = true;
        return r;
      });
      const health: number[] = [];
      while (!done) {
        const started = performance.now();
        await request(t.http).get('/api/v1/health/live').expect(200);
        health.push(performance.now() - started);
      }
      const res = await pending;
      delay.disable();

      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse((res.body as Buffer).toString('utf8'))).toMatchObject({ status: 422, type: 'urn:kura:problem:unprocessable-content' });
      // The api thread never parsed the bomb: no long stall, health answered throughout.
      expect(delay.max / 1e6).toBeLessThan(250);
      expect(Math.max(...health)).toBeLessThan(500);
      const events = await auditEvents(t.databaseUrl, `target_id = $1 AND action = 'document.download'`, [body.id]);
      expect(events).toEqual([expect.objectContaining({ outcome: 'failed', details: expect.objectContaining({ reason: 'pdf-limits-exceeded' }) })]);
    });
  });

  describe('label bypass', () => {
    const plainPdf = async () => {
      const doc = await PDFDocument.create();
      doc.addPage([300, 300]);
      return Buffer.from(await doc.save());
    };
    const stampedOrRefused = async (id: string) => {
      const res = await download(id);
      if (res.status === 200) {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-bypass-'));
        await writeFile(path.join(dir, 'f.pdf'), res.body as Buffer);
        const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', path.join(dir, 'f.pdf'), '-']);
        expect(stdout).toContain('秘 CONFIDENTIAL');
        expect(res.headers['content-type']).toBe('application/pdf');
      } else {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      return res.status;
    };

    it.each([
      ['a UTF-8 BOM', Buffer.from([0xef, 0xbb, 0xbf])],
      ['a newline', Buffer.from('\n')],
      ['500 bytes of junk', Buffer.alloc(500, 0x20)],
    ])('labels a PDF whose header follows %s (viewers look within the first 1,024 bytes)', async (_what, prefix) => {
      const { body } = await upload(Buffer.concat([prefix, await plainPdf()]), 'report.bin', 'CONFIDENTIAL', 'application/octet-stream').expect(201);
      expect(await stampedOrRefused(body.id)).toBe(200);
    });

    it.each([
      ['a .pdf name', 'notes.PDF', 'application/octet-stream'],
      ['a PDF media type', 'notes.bin', 'application/x-pdf'],
    ])('never serves a classified file with %s unlabelled, even when it is not a parseable PDF', async (_what, filename, contentType) => {
      const { body } = await upload(Buffer.from('not really a pdf, but a viewer would try'), filename, 'CONFIDENTIAL', contentType).expect(201);
      const res = await download(body.id);
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });
  });
});
