import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { ContentDownload } from '@kura/documents';

/** RFC 6266: an ASCII fallback plus the exact name as RFC 8187 `filename*`. */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

const logger = new Logger('HTTP');

/**
 * Streams decrypted content. Headers leave with the first byte. If the body fails before
 * that (the store froze or died), nothing was sent: the error goes to the problem filter
 * (503 with Retry-After for a store fault). If it fails after, the socket is destroyed so
 * the client sees a response short of its Content-Length, never a second response.
 */
export async function sendContent(res: Response, d: ContentDownload): Promise<void> {
  // Removed again if nothing could be sent; the security headers below stay on any answer.
  const headers: Record<string, string> = {
    'Content-Type': d.mediaType,
    'Content-Length': String(d.size),
    'Content-Disposition': contentDisposition(d.filename),
    'X-Classification': d.classification,
    'X-Document-Version': String(d.version),
  };
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  // Content opened in a browser tab runs nothing and loads nothing.
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
  res.status(200);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  try {
    // Not stream.pipeline: it would destroy the response on a body error before a 503 could be written.
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      d.body.once('error', (err) => {
        failed = true;
        reject(err);
      });
      res.once('close', () => {
        if (!res.writableFinished && !failed) {
          // The client went away: release the store's socket; not a server error.
          d.body.destroy();
          logger.log({ msg: 'client closed the request', status: 200 });
        }
        resolve();
      });
      d.body.pipe(res);
    });
  } catch (err) {
    d.body.unpipe(res);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const name of Object.keys(headers)) res.removeHeader(name);
    throw err;
  }
}
