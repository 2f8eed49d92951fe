import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

/**
 * The web console's Content-Security-Policy: only this origin, no inline script or style,
 * no plugins, never framed. The console's build emits no inline code, so nothing needs a nonce.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function isApiPath(p: string): boolean {
  return p === '/api' || p.startsWith('/api/');
}

/**
 * Serves the built console (apps/web → webDir) for every GET/HEAD outside /api that no
 * route claimed: existing files as themselves (hashed assets cached for a year), any other
 * path as index.html so the single-page app can route it. Mounted after the API's routes.
 */
export function consoleMiddleware(webDir: string) {
  const root = path.resolve(webDir);
  const index = path.join(root, 'index.html');
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const urlPath = req.path;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isApiPath(urlPath)) return next();
    let file = index;
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      decoded = '/';
    }
    const candidate = path.join(root, path.normalize(decoded));
    // Never outside the build folder, never a dotfile.
    if (candidate.startsWith(root + path.sep) && !decoded.split('/').some((s) => s.startsWith('.'))) {
      const found = await stat(candidate).catch(() => null);
      if (found?.isFile()) file = candidate;
      else if (decoded.startsWith('/assets/')) return next();
    }
    if (!(await stat(index).catch(() => null))) return next();
    const immutable = file !== index && decoded.startsWith('/assets/');
    res.sendFile(file, {
      headers: { ...CONSOLE_HEADERS, 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' },
      dotfiles: 'deny',
    }, (err) => {
      if (err && !res.headersSent) next(err);
    });
  };
}
