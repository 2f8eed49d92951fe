import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError, ErrorCode } from '@kura/common';

// The metadata key @ApiConsumes writes (@nestjs/swagger API_CONSUMES, not exported by the package).
const API_CONSUMES = 'swagger/apiConsumes';
const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/;

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * A body the route cannot read answers 415 before anything runs: otherwise the JSON parser
 * skips a `text/plain` body and the client gets a list of "missing" fields instead.
 * Routes declare what they read with `@ApiConsumes` (the same declaration the OpenAPI shows);
 * the default is JSON.
 */
@Injectable()
export class MediaTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (!hasBody(req)) return true;
    const consumes = this.reflector.getAllAndOverride<string[] | undefined>(API_CONSUMES, [context.getHandler(), context.getClass()]) ?? ['application/json'];
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const ok = consumes.some((c) => (c === 'application/json' ? JSON_TYPE.test(type) : c === type));
    if (!ok) {
      throw new DomainError(ErrorCode.UnsupportedMediaType, `This route reads ${consumes.join(' or ')}; the request body is ${type || 'of no declared type'}.`, { accept: consumes });
    }
    return true;
  }
}
