import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@kura/common';
import type { Actor } from './actor';

/** The authenticated actor the auth guard attached to the request. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<{ actor?: Actor }>().actor;
  if (!actor) throw new DomainError(ErrorCode.Unauthenticated, 'Authentication is required.');
  return actor;
});
