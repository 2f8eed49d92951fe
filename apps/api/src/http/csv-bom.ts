import { Readable } from 'node:stream';
import type { Request } from 'express';
import { problemLanguage } from './problem-i18n';

export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Excel in Japanese locales reads a CSV without a byte order mark as Shift_JIS and garbles
 * 出張旅費規程. `bom=true|false` decides; without it, a request that prefers Japanese gets one.
 */
export function wantsBom(req: Request, bom: boolean | undefined): boolean {
  return bom ?? problemLanguage(req) === 'ja';
}

/** The body with a BOM in front, whether bytes, text or a stream. */
export function withBom(body: string): string;
export function withBom(body: Buffer | Readable): Buffer | Readable;
export function withBom(body: string | Buffer | Readable): string | Buffer | Readable {
  if (typeof body === 'string') return `\uFEFF${body}`;
  if (Buffer.isBuffer(body)) return Buffer.concat([UTF8_BOM, body]);
  const source = body;
  return Readable.from(
    (async function* () {
      yield UTF8_BOM;
      yield* source;
    })(),
  );
}
