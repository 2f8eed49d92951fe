import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import fontkit from '@pdf-lib/fontkit';
import { degrees, PDFDocument, rgb } from 'pdf-lib';
import { CLASSIFICATION_LABELS_JA, classificationName, DomainError, ErrorCode, japaneseFontPath } from '@kura/common';

export interface StampLabel {
  classification: number;
  documentId: string;
  version: number;
  username: string;
  at: Date;
}

export const PDF_MAGIC = Buffer.from('%PDF-', 'ascii');

/** `秘 CONFIDENTIAL`: the label in Japanese and English (A.5.13 labelling). */
export function classificationLabel(level: number): string {
  const name = classificationName(level);
  return `${CLASSIFICATION_LABELS_JA[name]} ${name}`;
}

/**
 * Stamps every page of a PDF with the classification label, the document id and version,
 * the downloader and the UTC time. pdf-lib needs the whole file in memory, so callers cap
 * the size before buffering.
 */
@Injectable()
export class PdfStamper {
  private font?: Buffer;

  async stamp(pdf: Buffer, label: StampLabel): Promise<Buffer> {
    try {
      return await this.draw(pdf, label);
    } catch {
      // An encrypted or malformed PDF cannot carry its label: refuse rather than send it unlabelled.
      throw new DomainError(ErrorCode.UnsupportedMediaType, 'This classified PDF cannot be labelled (it is encrypted or malformed), so it is not served.');
    }
  }

  private async draw(pdf: Buffer, label: StampLabel): Promise<Buffer> {
    const doc = await PDFDocument.load(pdf, { updateMetadata: false });
    const pages = doc.getPages();
    if (pages.length === 0) throw new Error('no pages');
    doc.registerFontkit(fontkit);
    const font = await doc.embedFont(this.fontBytes(), { subset: true });
    const heading = classificationLabel(label.classification);
    const footer = `${heading} · Document ${label.documentId} v${label.version} · ${label.username} · ${label.at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    const red = rgb(0.75, 0, 0);
    for (const page of pages) {
      const { width, height } = page.getSize();
      const rotation = ((page.getRotation().angle % 360) + 360) % 360;
      const size = Math.max(6, Math.min(12, width / 60));
      const footerSize = Math.max(4, Math.min(7, (width - 20) / (footer.length * 0.6)));
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
      place(heading, size, true);
      place(footer, footerSize, false);
    }
    return Buffer.from(await doc.save({ useObjectStreams: true }));
  }

  private fontBytes(): Buffer {
    this.font ??= readFileSync(japaneseFontPath());
    return this.font;
  }
}
