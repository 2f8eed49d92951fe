import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError } from '@kura/common';

// RFC 9110 §13.1.1: "*" or a list of entity-tags, each [W/] DQUOTE *etagc DQUOTE.
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** A malformed If-Match is the client's mistake (400), not a stale version (412). Absent stays absent (428 later). */
export function parseIfMatch(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '*' || value.split(',').every((t) => ENTITY_TAG.test(t.trim()))) return value;
  throw DomainError.validation('If-Match must be "*" or quoted entity tags as sent in ETag, e.g. If-Match: "v3".', [
    { field: 'If-Match', messages: ['must be "*" or quoted entity tags such as "v3"'] },
  ]);
}

/** The request's If-Match header, syntax-checked. */
export const IfMatch = createParamDecorator((_data: unknown, ctx: ExecutionContext) => parseIfMatch(ctx.switchToHttp().getRequest<Request>().header('if-match')));
