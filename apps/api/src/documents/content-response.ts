import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { ContentDownload } from '@kura/documents';

/** RFC 6266: an ASCII fallback plus the exact name as RFC 8187 `filename*`. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Streams decrypted content. Headers go first; if decryption fails after that (integrity),
 * the socket is destroyed so the client sees a truncated response, never a second one.
 */
export async function sendContent(res: Response, d: ContentDownload): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', d.mediaType);
  res.setHeader('Content-Length', String(d.size));
  res.setHeader('Content-Disposition', contentDisposition(d.filename));
  res.setHeader('X-Classification', d.classification);
  res.setHeader('X-Document-Version', String(d.version));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  // Content opened in a browser tab runs nothing and loads nothing.
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
  try {
    await pipeline(d.body, res);
  } catch {
    res.destroy();
  }
}
