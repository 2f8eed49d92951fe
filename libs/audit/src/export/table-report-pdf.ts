import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, PDFFont, PDFPage, rgb, StandardFonts } from 'pdf-lib';
import { japaneseFont } from '@kura/common';

// A4 landscape: columns wide enough for whole UUIDs.
const PAGE: [number, number] = [841.89, 595.28];
const MARGIN = 36;
const SIZE = 7;
const ROW = SIZE * 1.5;
const GRAY = rgb(0.35, 0.35, 0.35);

const widths = new WeakMap<PDFFont, Map<string, number>>();

/** Width of one character at size 1, cached: measuring CJK text glyph by glyph is slow otherwise. */
function charWidth(font: PDFFont, ch: string): number {
  let cache = widths.get(font);
  if (!cache) widths.set(font, (cache = new Map()));
  let w = cache.get(ch);
  if (w === undefined) cache.set(ch, (w = font.widthOfTextAtSize(ch, 1)));
  return w;
}

/** One line that fits `width`, cut with an ellipsis; control characters (user-supplied names) become spaces. */
export function fit(text: string, font: PDFFont, size: number, width: number): string {
  const limit = (width * 0.98) / size;
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  let used = 0;
  const out: string[] = [];
  const ellipsis = charWidth(font, '…');
  for (const ch of clean) {
    const w = charWidth(font, ch);
    if (used + w > limit) {
      while (out.length && used + ellipsis > limit) used -= charWidth(font, out.pop() as string);
      return `${out.join('')}…`;
    }
    out.push(ch);
    used += w;
  }
  return out.join('');
}

export interface ReportColumn<T> {
  title: string;
  width: number;
  value: (row: T) => string;
}

/** A report for people: a heading, lines about it, then one table row per item (audit log, My Number ledger). */
export interface TableReport<T> {
  /** Heading on the first page; with `generatedAt`, the document's title and each page's footer. */
  heading: string;
  author: string;
  generatedAt: string;
  /** Recorded as the PDF's creation and modification dates. */
  createdAt?: Date;
  preamble: Array<{ text: string; size?: number; gray?: boolean }>;
  columns: Array<ReportColumn<T>>;
  rows: T[];
  /** Rows drawn in red (a denied or failed act). */
  flagged: (row: T) => boolean;
  /** Printed when there are no rows. */
  empty: string;
}

/**
 * Renders a table report in Japanese and English with the embedded Noto Sans JP. The csv and
 * jsonl exports carry every field and the hashes; this is for reading, not for verification.
 */
export async function renderTableReportPdf<T>(r: TableReport<T>): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  // As for deletion certificates: contextual alternates widen digits in pdf-lib, and subsetting
  // (fontkit 1.1) drops glyphs of this font, so the whole font is embedded without them.
  const font = await doc.embedFont(await japaneseFont(), {
    subset: false,
    features: { liga: false, calt: false, locl: false, ccmp: false, rlig: false, clig: false },
  });
  // Laying out text through fontkit costs about half a millisecond a call; plain ASCII cells (most
  // of them: seq, times, ids, actions) are drawn in Helvetica instead, which needs no layout.
  const latin = await doc.embedFont(StandardFonts.Helvetica);
  const fontFor = (text: string) => (/^[\x20-\x7e]*$/.test(text) ? latin : font);
  doc.setTitle(`${r.heading} ${r.generatedAt}`);
  doc.setAuthor(r.author);
  doc.setCreator('Kura');
  doc.setProducer('Kura');
  if (r.createdAt) {
    doc.setCreationDate(r.createdAt);
    doc.setModificationDate(r.createdAt);
  }

  let page!: PDFPage;
  let y = 0;
  const line = (text: string, options: { size?: number; gray?: boolean } = {}) => {
    const size = options.size ?? 9;
    y -= size * 1.5;
    page.drawText(fit(text, font, size, PAGE[0] - 2 * MARGIN), { x: MARGIN, y, size, font, color: options.gray ? GRAY : rgb(0, 0, 0) });
  };
  const tableHeader = () => {
    y -= ROW + 4;
    let x = MARGIN;
    for (const c of r.columns) {
      page.drawText(fit(c.title, font, SIZE, c.width - 4), { x, y, size: SIZE, font, color: GRAY });
      x += c.width;
    }
    y -= 3;
    page.drawLine({ start: { x: MARGIN, y }, end: { x: PAGE[0] - MARGIN, y }, thickness: 0.5, color: GRAY });
  };
  const newPage = () => {
    page = doc.addPage(PAGE);
    y = PAGE[1] - MARGIN;
  };

  newPage();
  line(r.heading, { size: 16 });
  y -= 4;
  for (const p of r.preamble) line(p.text, p);
  tableHeader();
  for (const row of r.rows) {
    if (y - ROW < MARGIN + 14) {
      // Give the event loop a turn per page: the rest of the instance keeps answering while a long report draws.
      await new Promise((resolve) => setImmediate(resolve));
      newPage();
      tableHeader();
    }
    y -= ROW;
    let x = MARGIN;
    const color = r.flagged(row) ? rgb(0.7, 0, 0) : rgb(0, 0, 0);
    for (const c of r.columns) {
      const value = c.value(row);
      const cellFont = fontFor(value);
      page.drawText(fit(value, cellFont, SIZE, c.width - 4), { x, y, size: SIZE, font: cellFont, color });
      x += c.width;
    }
  }
  if (r.rows.length === 0) line(r.empty);

  const pages = doc.getPages();
  pages.forEach((p, i) => p.drawText(`${r.heading} — ${r.generatedAt} — ${i + 1} / ${pages.length}`, { x: MARGIN, y: MARGIN - 12, size: 7, font, color: GRAY }));
  return Buffer.from(await doc.save({ useObjectStreams: true }));
}
