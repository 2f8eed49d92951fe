import type { Server } from 'node:http';
import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Observable, finalize } from 'rxjs';
import { ErrorCode, requestContext } from '@kura/common';
import { problemType, RETRY_AFTER_SECONDS } from './problem.filter';

/** After the drain window: how long aborted handlers get to clean up what they wrote. */
const CLEANUP_GRACE_MS = 5_000;

interface InFlight {
  req: Request;
  res: Response;
}

function unavailable(req: Request, res: Response, detail: string): void {
  const requestId = requestContext.current()?.requestId;
  res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.setHeader('Connection', 'close');
  res
    .status(503)
    .type('application/problem+json')
    .send(JSON.stringify({ type: problemType(ErrorCode.Unavailable), title: 'Service Unavailable', status: 503, detail, instance: req.originalUrl?.split('?')[0], ...(requestId && { requestId }) }));
}

/**
 * Graceful drain on SIGTERM: new requests are answered 503 (Retry-After, Connection: close),
 * requests in flight may finish within the shutdown timeout, then the rest are answered 503
 * and cut, and their handlers get a short grace to clean up what they wrote (the upload's
 * object and intent) before the process stops.
 */
@Injectable()
export class HttpDrain implements NestInterceptor {
  private readonly logger = new Logger('Shutdown');
  private draining = false;
  private readonly requests = new Set<InFlight>();
  private handlers = 0;
  private idle: Array<() => void> = [];

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.draining) return unavailable(req, res, 'The service is shutting down; retry shortly.');
    const entry: InFlight = { req, res };
    this.requests.add(entry);
    res.once('close', () => {
      this.requests.delete(entry);
      this.settle();
    });
    next();
  };

  /** Tracks handlers (not just responses): an aborted upload's handler runs on to clean up. */
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.handlers++;
    return next.handle().pipe(
      finalize(() => {
        this.handlers--;
        this.settle();
      }),
    );
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async drain(server: Server, timeoutMs: number): Promise<{ finished: boolean; aborted: number }> {
    this.draining = true;
    this.logger.log({ msg: 'draining', inFlight: this.requests.size, timeoutMs });
    // Keep-alive connections end after their current response.
    for (const { res } of this.requests) res.setHeader('Connection', 'close');
    server.closeIdleConnections();
    const finished = await this.quiet(timeoutMs);
    let aborted = 0;
    if (!finished) {
      for (const { req, res } of [...this.requests]) {
        aborted++;
        // The request stream too: once its response has finished, Node no longer aborts it when the socket closes.
        const cut = () => {
          req.destroy();
          req.socket?.destroy();
        };
        if (res.headersSent) {
          cut();
          continue;
        }
        unavailable(req, res, 'The service shut down before this request finished; send it again.');
        res.once('finish', cut);
        setTimeout(cut, 1_000).unref();
      }
      this.logger.warn({ msg: 'shutdown timeout: requests in flight answered 503 and cut', aborted });
      await this.quiet(CLEANUP_GRACE_MS);
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return { finished, aborted };
  }

  private quiet(ms: number): Promise<boolean> {
    if (this.requests.size === 0 && this.handlers === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private settle(): void {
    if (this.requests.size > 0 || this.handlers > 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const w of waiting) w();
  }
}
