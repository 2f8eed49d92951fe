import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@kura/common';
import type { Actor } from '@kura/identity';
import type { AppAbility } from './access-policy';

/** What the guards attach to an authenticated request. */
export interface AccessRequest {
  actor?: Actor;
  ability?: AppAbility;
}

/** The caller's ability, built once per request by the auth guard. */
export function abilityOf(req: AccessRequest): AppAbility {
  if (!req.ability) throw new DomainError(ErrorCode.Unauthenticated, 'Authentication is required.');
  return req.ability;
}

/** Handler parameter: the caller's CASL ability, for row-level checks in services. */
export const CurrentAbility = createParamDecorator((_: unknown, ctx: ExecutionContext): AppAbility =>
  abilityOf(ctx.switchToHttp().getRequest<AccessRequest>()),
);
