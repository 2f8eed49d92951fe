import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from '@nestjs/common';
import { requestContext } from '@kura/common';
import { observeRequest } from './metrics';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;
const logger = new Logger('HTTP');

/**
 * Gives every request an id (the client's X-Request-Id when well-formed, else a new
 * UUID), echoes it, and runs the request inside a context the logger and audit read.
 * Logs one access line per request: method, path without query, status, duration.
 */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  const requestId = incoming && WELL_FORMED.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const started = process.hrtime.bigint();
  const ctx = { requestId, clientAddress: req.ip ?? req.socket.remoteAddress, userAgent: req.header('user-agent')?.slice(0, 256) };
  res.on('finish', () => {
    observeRequest(req, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    requestContext.run(ctx, () =>
      logger.log({
        msg: 'request',
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        // Set by the AuthGuard once the bearer token is verified; absent for anonymous requests.
        userId: (req as Request & { actor?: { id: string } }).actor?.id,
        ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
      }),
    );
  });
  requestContext.run(ctx, () => next());
}
