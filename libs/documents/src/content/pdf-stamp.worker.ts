/**
 * Worker thread that parses an untrusted PDF and draws the label on it. It runs in a
 * worker (see PdfStamper) because pdf-lib inflates every object synchronously: a hostile
 * file must stall this thread, never the api's event loop. Imports nothing from @kura so it
 * loads the same way from sources and from dist.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import fontkit from '@pdf-lib/fontkit';
import { degrees, PDFDocument, rgb } from 'pdf-lib';
import DecodeStream from 'pdf-lib/cjs/core/streams/DecodeStream';
import subsetFont from 'subset-font';
import type { StampReply, StampRequest, StampWorkerData } from './pdf-stamp.protocol';

const { fontPath, maxDecodedBytes } = workerData as StampWorkerData;
const fullFont = readFileSync(fontPath);

class DecodedLimitExceeded extends Error {}

// pdf-lib grows one buffer per decoded stream (FlateDecode, LZW, … chained as the file
// asks). Counting that growth caps what a small file may inflate to (decompression bombs).
let decodedBudget = 0;
let decodedExceeded = false;
type Growable = { buffer: Uint8Array; minBufferLength: number; ensureBuffer(requested: number): Uint8Array };
const proto = DecodeStream.prototype as unknown as Growable;
const ensureBuffer = proto.ensureBuffer;
proto.ensureBuffer = function (this: Growable, requested: number): Uint8Array {
  if (requested > this.buffer.byteLength) {
    // The size the original is about to allocate (it doubles), charged before it does.
    let size = this.minBufferLength;
    while (size < requested) size *= 2;
    decodedBudget -= size - this.buffer.byteLength;
    if (decodedBudget < 0) {
      decodedExceeded = true;
      throw new DecodedLimitExceeded('decoded size limit');
    }
  }
  return ensureBuffer.call(this, requested);
};

async function stamp(req: StampRequest): Promise<Uint8Array> {
  const doc = await PDFDocument.load(req.pdf, { updateMetadata: false, ignoreEncryption: false });
  const pages = doc.getPages();
  if (pages.length === 0) throw new Error('no pages');
  doc.registerFontkit(fontkit);
  // pdf-lib's own TrueType subsetter writes a short `loca` table over odd-length glyphs,
  // which breaks their outlines (the label rendered as `秘 C`). HarfBuzz subsets correctly;
  // the small subset is then embedded whole. Without GSUB/GPOS no ligature glyph (`ff` in
  // an id) replaces two letters, so the text layer reads exactly what was drawn.
  const subset = await subsetFont(fullFont, req.heading + req.footer, { targetFormat: 'truetype', dropTables: ['GSUB', 'GPOS'] });
  const font = await doc.embedFont(subset, { subset: false });
  const red = rgb(0.75, 0, 0);
  for (const page of pages) {
    const { width, height } = page.getSize();
    const rotation = ((page.getRotation().angle % 360) + 360) % 360;
    // The label runs along the displayed top edge, which is the page's side for 90/270.
    const across = rotation === 90 || rotation === 270 ? height : width;
    const size = Math.max(6, Math.min(12, across / 60));
    const footerSize = Math.max(4, Math.min(7, (across - 20) / (req.footer.length * 0.6)));
    // Keep the label upright as the page is displayed, whatever its /Rotate.
    const place = (text: string, fontSize: number, fromTop: boolean) => {
      const w = font.widthOfTextAtSize(text, fontSize);
      const margin = 6 + fontSize;
      const pos = {
        0: { x: (width - w) / 2, y: fromTop ? height - margin : margin - fontSize / 2 },
        90: { x: fromTop ? margin : width - margin + fontSize / 2, y: (height - w) / 2 },
        180: { x: (width + w) / 2, y: fromTop ? margin : height - margin + fontSize / 2 },
        270: { x: fromTop ? width - margin : margin - fontSize / 2, y: (height + w) / 2 },
      }[rotation as 0 | 90 | 180 | 270] ?? { x: (width - w) / 2, y: fromTop ? height - margin : margin };
      page.drawText(text, { x: pos.x, y: pos.y, size: fontSize, font, color: red, rotate: degrees(rotation) });
    };
    place(req.heading, size, true);
    place(req.footer, footerSize, false);
  }
  return doc.save({ useObjectStreams: true });
}

parentPort?.on('message', (req: StampRequest) => {
  decodedBudget = maxDecodedBytes;
  decodedExceeded = false;
  stamp(req).then(
    (pdf) => {
      const reply: StampReply = decodedExceeded ? { ok: false, reason: 'limits' } : { ok: true, pdf };
      parentPort?.postMessage(reply, reply.ok ? [pdf.buffer as ArrayBuffer] : []);
    },
    (err: unknown) => {
      const reply: StampReply = { ok: false, reason: decodedExceeded || err instanceof DecodedLimitExceeded ? 'limits' : 'malformed' };
      parentPort?.postMessage(reply);
    },
  );
});
