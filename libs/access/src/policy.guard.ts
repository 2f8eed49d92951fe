import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { routeOf } from './auth.guard';
import { IS_AUTHENTICATED_ONLY } from './authenticated.decorator';
import { POLICY, PolicyRequirement } from './policy.decorator';
import { IS_PUBLIC } from './public.decorator';
import type { AccessRequest } from './request-access';

/**
 * Global guard #2 (after AuthGuard): deny by default. A route passes only if it is
 * @Public(), @Authenticated(), or declares @Policy(action, subject) that the caller's
 * ability grants. Every denial is audited.
 */
@Injectable()
export class PolicyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & AccessRequest>();
    if (!req.actor || !req.ability) throw new DomainError(ErrorCode.Unauthenticated, 'A valid bearer token is required; log in again.');
    const requirement = this.reflector.getAllAndOverride<PolicyRequirement | undefined>(POLICY, targets);
    if (!requirement && this.reflector.getAllAndOverride<boolean>(IS_AUTHENTICATED_ONLY, targets)) return true;
    if (requirement && req.ability.can(requirement.action, requirement.subject)) return true;
    await this.audit.record({
      actor: req.actor,
      action: 'access.denied',
      outcome: 'denied',
      targetType: requirement?.subject,
      details: requirement
        ? { route: routeOf(req), action: requirement.action, subject: requirement.subject }
        : { route: routeOf(req), reason: 'route_has_no_policy' },
    });
    throw new DomainError(ErrorCode.Forbidden, 'You are not allowed to do this.');
  }
}
