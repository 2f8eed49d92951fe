import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildCertificate } from './certificate.builder';
import { renderCertificatePdf } from './certificate-pdf';
import { certificateDigest, signCertificate } from './certificate-signing';
import { sampleFacts, testSigner } from './certificate.fixture';

const run = promisify(execFile);

describe('certificate PDF', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-cert-pdf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('renders Japanese and English text, every record id, hash and the signature', async () => {
    const facts = sampleFacts();
    // Enough records to need a second page.
    for (let i = 3; i <= 14; i++) {
      facts.records.push({ ...facts.records[0], recordId: `a3c1e5f7-0000-4000-8000-0000000000${String(i).padStart(2, '0')}` });
    }
    const signed = signCertificate(buildCertificate(facts), testSigner());
    const pdf = await renderCertificatePdf(signed);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const file = path.join(dir, 'certificate.pdf');
    await writeFile(file, pdf);

    const { stdout: text } = await run('pdftotext', ['-enc', 'UTF-8', file, '-']);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('データ消去証明書');
    expect(flat).toContain('Certificate of Sanitization');
    expect(flat).toContain('秘 CONFIDENTIAL');
    expect(flat).toContain('極秘 SECRET');
    expect(flat).toContain('Crypto Erase + object deletion');
    expect(flat).toContain('Purge');
    expect(flat).toContain('所得税法');
    for (const r of facts.records) expect(flat).toContain(r.recordId);
    expect(flat).toContain('1'.repeat(64));
    expect(flat).toContain(certificateDigest(signed.certificate));
    expect(flat).toContain('復元することはできません');
    expect(flat).toContain('officer-a');
    expect(flat).toContain('officer-b');
    // The title of a `specific` document never reaches the PDF either.
    expect(flat).not.toContain('山田太郎');

    await run('pdftoppm', ['-r', '40', '-png', file, path.join(dir, 'page')]);
    const pages = (await readdir(dir)).filter((f) => f.startsWith('page') && f.endsWith('.png'));
    expect(pages.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
