import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode, requestContext, unavailableDependency } from '@kura/common';
import { allowedMethods } from './method-not-allowed';
import { problemDetail, problemLanguage, problemTitle } from './problem-i18n';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.Validation]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.PasswordChangeRequired]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.NotAcceptable]: 406,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Gone]: 410,
  [ErrorCode.PreconditionFailed]: 412,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.Locked]: 423,
  [ErrorCode.PreconditionRequired]: 428,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.IntegrityFailed]: 500,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.RequestTimeout]: 408,
};

/** Seconds a client should wait before retrying a 503 (a dependency is down or the service is draining). */
export const RETRY_AFTER_SECONDS = 5;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  423: 'Locked',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const HTTP_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

export function problemType(code: string): string {
  return `urn:kura:problem:${code}`;
}

/** RFC 9457: every error leaves as application/problem+json, never a stack trace. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const problem = this.toProblem(exception);
    // No route for this method, but one for others at this path: 405 with Allow (RFC 9110 §15.5.6).
    const allow = exception instanceof NotFoundException && exception.message.startsWith('Cannot ') ? allowedMethods(req) : [];
    if (allow.length) {
      Object.assign(problem, { type: problemType('method-not-allowed'), title: TITLES[405], status: 405, detail: `${req.method} is not allowed here; use ${allow.join(', ')}.` });
      res.setHeader('Allow', allow.join(', '));
    }
    problem.instance = req.originalUrl?.split('?')[0];
    const requestId = requestContext.current()?.requestId;
    if (requestId) problem.requestId = requestId;

    if (res.destroyed || req.socket?.destroyed) {
      // The client went away (an aborted upload or download): nothing to answer, not a server error.
      this.logger.log({ msg: 'client closed the request', status: problem.status, type: problem.type });
      return;
    }
    if (res.headersSent) {
      // A streamed response already started: a second response would corrupt it. Cut the socket.
      this.logger.error({ msg: 'error after response started', status: problem.status, type: problem.type });
      res.destroy();
      return;
    }
    if (problem.status === 503) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      this.logger.warn({ msg: 'dependency unavailable', status: 503, errorName: exception instanceof Error ? exception.name : typeof exception, error: (exception instanceof Error ? exception.message : '').slice(0, 300) });
    } else if (problem.status >= 500) {
      const name = exception instanceof Error ? exception.name : typeof exception;
      const message = exception instanceof DomainError ? exception.detail : exception instanceof Error ? exception.message : '';
      // The stack names code, not data: it goes to the log, never to the client.
      const stack = exception instanceof Error && !(exception instanceof DomainError) ? exception.stack : undefined;
      this.logger.error({ msg: 'request failed', status: problem.status, errorName: name, error: message.slice(0, 300), stack });
    }
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    // A stalled body is not read any further: the connection cannot be reused.
    if (problem.status === 408) res.setHeader('Connection', 'close');
    if (typeof problem.retryAfterSeconds === 'number') res.setHeader('Retry-After', String(Math.max(1, Math.ceil(problem.retryAfterSeconds))));
    const lng = problemLanguage(req);
    problem.title = problemTitle(problem.status, lng, problem.title);
    problem.detail = problemDetail(problem.detail, problem.status, lng);
    res.setHeader('Content-Language', lng);
    res.vary('Accept-Language');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof DomainError) {
      const status = STATUS[exception.code] ?? 500;
      return {
        type: problemType(exception.code),
        title: TITLES[status] ?? 'Error',
        status,
        detail: status >= 500 && exception.code !== ErrorCode.Unavailable ? 'The server could not complete the request.' : exception.detail,
        ...exception.extensions,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return {
        type: problemType(HTTP_CODES[status] ?? `http-${status}`),
        title: TITLES[status] ?? 'Error',
        status,
        detail: status === 404 ? 'No such route or resource.' : safeHttpDetail(exception),
      };
    }
    // body-parser and other middleware errors carry a status and a `type`.
    const mw = exception as { status?: number; statusCode?: number; type?: string } | null;
    const mwStatus = mw?.status ?? mw?.statusCode;
    if (typeof mwStatus === 'number' && mwStatus >= 400 && mwStatus < 500) {
      const detail =
        mw?.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : mw?.type === 'entity.too.large'
            ? 'The request body is too large.'
            : 'The request could not be processed.';
      return { type: problemType(HTTP_CODES[mwStatus] ?? `http-${mwStatus}`), title: TITLES[mwStatus] ?? 'Error', status: mwStatus, detail };
    }
    // PostgreSQL refused a value's bytes or form (SQLSTATE class 22: a NUL in text, a number
    // out of range): the input was bad, whichever validator let it through.
    const sqlState = (exception as { driverError?: { code?: unknown } } | null)?.driverError?.code;
    if (typeof sqlState === 'string' && sqlState.startsWith('22')) {
      return { type: problemType(HTTP_CODES[400]), title: TITLES[400], status: 400, detail: 'A value in the request cannot be stored (invalid characters or out of range).' };
    }
    const dependency = unavailableDependency(exception);
    if (dependency) {
      return {
        type: problemType(ErrorCode.Unavailable),
        title: TITLES[503],
        status: 503,
        detail: `${dependency === 'dependency' ? 'A service Kura depends on' : `The ${dependency}`} is unavailable; retry shortly.`,
      };
    }
    return {
      type: problemType('internal'),
      title: TITLES[HttpStatus.INTERNAL_SERVER_ERROR],
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'The server could not complete the request.',
    };
  }
}

function safeHttpDetail(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return exception.message;
}
