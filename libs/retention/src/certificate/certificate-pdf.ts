import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, PDFFont, PDFPage, rgb } from 'pdf-lib';
import { japaneseFont } from '@kura/common';
import { certificateDigest } from './certificate-signing';
import { CertificateRedaction, SignedCertificate } from './certificate.model';

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const BODY = 8.5;
const LEADING = 1.45;

const widthCache = new WeakMap<PDFFont, Map<string, number>>();

/** Width of one character at size 1, cached: measuring whole strings per character is quadratic and slow with CJK fonts. */
function charWidth(font: PDFFont, ch: string): number {
  let cache = widthCache.get(font);
  if (!cache) widthCache.set(font, (cache = new Map()));
  let w = cache.get(ch);
  if (w === undefined) cache.set(ch, (w = font.widthOfTextAtSize(ch, 1)));
  return w;
}

/** Splits text into lines that fit `width`, breaking at spaces where it can (ids stay whole). */
export function wrapText(text: string, font: PDFFont, size: number, width: number): string[] {
  // Kerning is ignored when summing character widths; keep a small margin for it.
  const limit = (width * 0.98) / size;
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line: string[] = [];
    let lineWidth = 0;
    let lastSpace = -1;
    for (const ch of paragraph) {
      const w = charWidth(font, ch);
      if (lineWidth + w <= limit || line.length === 0) {
        line.push(ch);
        lineWidth += w;
        if (ch === ' ') lastSpace = line.length - 1;
        continue;
      }
      let rest: string[];
      if (lastSpace > 0) {
        lines.push(line.slice(0, lastSpace).join(''));
        rest = line.slice(lastSpace + 1);
      } else {
        lines.push(line.join(''));
        rest = [];
      }
      line = [...rest, ch];
      lineWidth = line.reduce((sum, c) => sum + charWidth(font, c), 0);
      lastSpace = line.lastIndexOf(' ');
    }
    lines.push(line.join(''));
  }
  return lines;
}

class Writer {
  private page!: PDFPage;
  private y = 0;
  readonly pages: PDFPage[] = [];

  constructor(
    private readonly doc: PDFDocument,
    private readonly font: PDFFont,
  ) {
    this.newPage();
  }

  private get width(): number {
    return A4[0] - 2 * MARGIN;
  }

  private newPage(): void {
    this.page = this.doc.addPage(A4);
    this.pages.push(this.page);
    this.y = A4[1] - MARGIN;
  }

  private ensure(height: number): void {
    if (this.y - height < MARGIN + 20) this.newPage();
  }

  text(value: string, options: { size?: number; indent?: number; gray?: boolean } = {}): void {
    const size = options.size ?? BODY;
    const indent = options.indent ?? 0;
    for (const line of wrapText(value, this.font, size, this.width - indent)) {
      this.ensure(size * LEADING);
      this.y -= size * LEADING;
      this.page.drawText(line, { x: MARGIN + indent, y: this.y, size, font: this.font, color: options.gray ? rgb(0.35, 0.35, 0.35) : rgb(0, 0, 0) });
    }
  }

  field(label: string, value: string, indent = 0): void {
    this.text(`${label}: ${value}`, { indent });
  }

  heading(value: string): void {
    this.gap(6);
    this.ensure(30);
    this.text(value, { size: 11 });
    this.y -= 2;
    this.page.drawLine({ start: { x: MARGIN, y: this.y }, end: { x: A4[0] - MARGIN, y: this.y }, thickness: 0.5, color: rgb(0.5, 0.5, 0.5) });
    this.gap(2);
  }

  gap(points: number): void {
    this.y -= points;
  }
}

/**
 * Renders the signed certificate as a PDF (Japanese and English, embedded Noto Sans JP).
 * It is a view of the JSON: the signed JSON is the evidence, and the PDF prints the
 * signature and the SHA-256 of the signed bytes so a reader can match the two.
 */
export async function renderCertificatePdf(signed: SignedCertificate, redaction?: CertificateRedaction): Promise<Buffer> {
  const c = signed.certificate;
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  // Contextual alternates in Noto Sans JP swap Latin digits for glyphs that render too wide in
  // pdf-lib; plain glyphs keep ids and hashes legible. Subsetting (fontkit 1.1) drops most glyphs of this font, so the whole font is embedded (about 3 MB).
  const font = await doc.embedFont(await japaneseFont(), {
    subset: false,
    features: { liga: false, calt: false, locl: false, ccmp: false, rlig: false, clig: false },
  });
  const issued = new Date(c.issuedAt);
  doc.setTitle(`消去証明書 / Certificate of Deletion ${c.certificateId}`);
  doc.setAuthor(c.organisation);
  doc.setProducer(`${c.sanitization.tool.name} ${c.sanitization.tool.version}`);
  doc.setCreator(c.sanitization.tool.name);
  doc.setCreationDate(issued);
  doc.setModificationDate(issued);

  const w = new Writer(doc, font);
  w.text('データ消去証明書 / Certificate of Sanitization (Deletion)', { size: 15 });
  w.text(c.standard, { gray: true });
  if (redaction) {
    w.gap(4);
    w.text(`墨消し版 / REDACTED COPY — ${redaction.withheldRecords + redaction.withheldNotDestroyed} record(s) withheld. ${redaction.note}`);
  }
  w.gap(4);
  w.field('証明書番号 / Certificate ID', c.certificateId);
  w.field('処分バッチ / Disposition batch', c.batchId);
  w.field('発行日時 / Issued at (UTC)', c.issuedAt);
  w.field('組織 / Organisation', c.organisation);

  w.heading('消去実施者 / Person performing sanitization');
  w.field('氏名 / Name', c.personPerforming.name);
  w.field('役職 / Title', c.personPerforming.title);
  w.field('組織 / Organisation', c.personPerforming.organisation);
  w.field('起案者 / Proposed by', `${c.proposer.name} (${c.proposer.userId}) at ${c.proposer.proposedAt}`);
  w.field('承認者 / Approved by', `${c.approver.name} (${c.approver.userId}) at ${c.approver.approvedAt}`);

  w.heading('消去方法 / Sanitization details');
  w.field('方式 / Method type', c.sanitization.methodType);
  w.field('手法 / Method used', `${c.sanitization.methodUsed}（暗号化消去＋オブジェクト削除）`);
  w.field('詳細 / Method details', c.sanitization.methodDetails);
  w.field('ツール / Tool used', `${c.sanitization.tool.name} ${c.sanitization.tool.version}`);
  w.field('検証方法 / Verification method', `${c.sanitization.verificationMethod}（全件検証） — result: ${c.sanitization.verificationResult}`);
  w.field('消去後の区分 / Post-sanitization classification', c.sanitization.postSanitizationClassification);
  w.field('媒体の行先 / Media destination', c.sanitization.destination);
  w.field('バックアップ / Data backed up', c.sanitization.dataBackedUp);
  w.field('開始 / Started', c.sanitization.startedAt);
  w.field('完了 / Completed', c.sanitization.completedAt);
  w.field('リーガルホールド確認 / Legal hold check', `${c.holdCheck.description} (${c.holdCheck.checkedAt}; blocking holds: ${c.holdCheck.blockingHolds})`);

  w.heading(`消去した記録 / Records destroyed (${c.records.length})`);
  for (const r of c.records) {
    w.gap(3);
    w.field('記録ID / Record ID', r.recordId);
    w.field('表題 / Title', r.title, 10);
    w.field('機密区分 / Classification', `${r.classificationJa} ${r.classification}`, 10);
    w.field('種別 / Kind', `${r.kind}; personal data: ${r.personalData}; department: ${r.department ?? '-'}`, 10);
    if (r.series) w.field('文書シリーズ / Series', `${r.series.code} ${r.series.name} — ${r.series.retention}, ${r.series.trigger}`, 10);
    if (r.series) w.field('根拠法令 / Legal citation', r.series.citation, 10);
    w.field('保存期間満了 / Retention ended', `${r.retention.dispositionDate ?? '-'} — ${r.retention.dueReason}`, 10);
    w.field('消去日時 / Destroyed at', r.destroyedAt, 10);
    for (const v of r.versions) {
      w.text(`v${v.number}  ${v.size} bytes  SHA-256 ${v.sha256}`, { indent: 20 });
      w.text(
        `object ${v.objectKey} — key erased: ${v.dataKeyErased ? 'yes' : 'NO'}, deleted: ${v.objectDeleted ? 'yes' : 'NO'}, ` +
          `verified ${v.verification.method}: ${v.verification.result} (${v.verification.passed ? 'passed' : 'FAILED'})`,
        { indent: 20, gray: true },
      );
    }
    if (r.storagePrefix) {
      w.text(
        `prefix ${r.storagePrefix.prefix} — other objects deleted: ${r.storagePrefix.otherObjectsDeleted}, ` +
          `listed ${r.storagePrefix.verification.result} (${r.storagePrefix.verification.passed ? 'passed' : 'FAILED'})`,
        { indent: 20, gray: true },
      );
    }
  }
  if (c.notDestroyed.length) {
    w.heading(`消去しなかった記録 / Records not destroyed (${c.notDestroyed.length})`);
    for (const n of c.notDestroyed) w.field(n.recordId, `${n.outcome}: ${n.reason}`);
  }

  w.heading('証明 / Statement');
  w.text(c.statement.ja);
  w.gap(3);
  w.text(c.statement.en);

  w.heading('署名・検証 / Signature and validation');
  w.field('検証者 / Validated by', `${c.validation.name}, ${c.validation.title}, ${c.validation.organisation} at ${c.validation.validatedAt}`);
  w.text(c.validation.statement);
  w.field('署名方式 / Algorithm', signed.signature.algorithm);
  w.field('鍵ID / Key ID', signed.signature.keyId);
  w.field('署名 / Signature (base64)', signed.signature.value);
  w.field('署名対象 SHA-256 / Signed bytes SHA-256', certificateDigest(c));
  w.text('検証 / Verify: npm run cli -- certificate verify <certificate.json> --public-key <public-key.pem> (GET /api/v1/keys/public)', { gray: true });

  w.pages.forEach((page, i) => {
    page.drawText(`${c.certificateId} — ${i + 1} / ${w.pages.length}`, { x: MARGIN, y: MARGIN - 18, size: 7, font, color: rgb(0.4, 0.4, 0.4) });
  });
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
