import type { NextFunction, Request, Response } from 'express';
import { requestContext } from '@kura/common';
import { problemType } from './problem.filter';

/**
 * Every API answer: never cached (JSON bodies hold classified metadata, exports and content
 * are classified), and a sandbox policy so content opened in a browser cannot run script
 * or load anything, whatever its type.
 */
export function apiSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
}

/** Any path under /api that no route answered: problem+json, never Express's HTML page. */
export function apiNotFound(req: Request, res: Response): void {
  const requestId = requestContext.current()?.requestId;
  res
    .status(404)
    .type('application/problem+json')
    .send(JSON.stringify({ type: problemType('not-found'), title: 'Not Found', status: 404, detail: 'No such route or resource.', instance: req.originalUrl.split('?')[0], ...(requestId ? { requestId } : {}) }));
}
