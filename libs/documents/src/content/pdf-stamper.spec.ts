import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { DomainError, ErrorCode } from '@kura/common';
import { loadConfig } from '@kura/config';
import { PdfStamper } from './pdf-stamper';

describe(PdfStamper.name, () => {
  let stamper: PdfStamper;
  beforeAll(() => {
    stamper = new PdfStamper(loadConfig({ PDF_STAMP_CONCURRENCY: '1', PDF_STAMP_QUEUE: '1', PDF_STAMP_TIMEOUT_MS: '20000' }));
  });
  afterAll(() => stamper.onModuleDestroy());

  const onePage = async () => {
    const doc = await PDFDocument.create();
    doc.addPage([595, 842]);
    return Buffer.from(await doc.save());
  };
  const at = new Date('2026-04-01T09:30:00Z');

  it('draws the footer so the text layer reads exactly what was drawn (no ligature swallows `ff`)', async () => {
    const id = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
    const out = await stamper.stamp(await onePage(), { classification: 3, documentId: id, version: 7, username: 'jeff.offield', at });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kura-stamp-'));
    writeFileSync(path.join(dir, 's.pdf'), out);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', path.join(dir, 's.pdf'), '-']).toString('utf8');
    expect(text).toContain('極秘 SECRET');
    expect(text).toContain(`Document ${id} v7 · jeff.offield · 2026-04-01T09:30:00Z`);
  });

  it('answers Unavailable when every worker is busy and the queue is full, without starting more', async () => {
    const pdf = await onePage();
    const label = { classification: 2, documentId: 'x', version: 1, username: 'u', at };
    const results = await Promise.allSettled([stamper.stamp(pdf, label), stamper.stamp(pdf, label), stamper.stamp(pdf, label)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const err = (results[2] as PromiseRejectedResult).reason as DomainError;
    expect(err.code).toBe(ErrorCode.Unavailable);
  });

  it('refuses (UnprocessableContent) a labelling that overruns its time limit, and terminates that worker', async () => {
    const hasty = new PdfStamper(loadConfig({ PDF_STAMP_TIMEOUT_MS: '100' }));
    try {
      // A worker cannot even load its font in 100 ms, so the limit is what ends this task.
      const err = await hasty.stamp(await onePage(), { classification: 2, documentId: 'x', version: 1, username: 'u', at }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe(ErrorCode.UnprocessableContent);
      expect((hasty as unknown as { idle: unknown[] }).idle).toHaveLength(0);
    } finally {
      await hasty.onModuleDestroy();
    }
  });
});
