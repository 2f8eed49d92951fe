import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { AuthRejectionTally, AuthService, CSRF_HEADER, csrfMatches, sessionTokenFromCookies } from '@kura/identity';
import { AbilityFactory } from './ability.factory';
import { ALLOWS_PENDING_PASSWORD_CHANGE } from './authenticated.decorator';
import { IS_PUBLIC } from './public.decorator';
import type { AccessRequest } from './request-access';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function routeOf(req: Request): string {
  const path = (req.route as { path?: string } | undefined)?.path ?? req.path;
  return `${req.method} ${path}`;
}

/**
 * Global guard #1: every non-public route needs a live server-side session. The actor is
 * rebuilt from the user row on every request, so a deactivation or privilege change
 * takes effect on the very next request.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly abilities: AbilityFactory,
    private readonly audit: AuditService,
    private readonly rejections: AuthRejectionTally,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return false;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<Request & AccessRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
    // The console's session lives in an HttpOnly cookie; a bearer token, when given, wins.
    const cookieToken = match ? undefined : sessionTokenFromCookies(req.header('cookie'));
    if (cookieToken && !SAFE_METHODS.has(req.method) && !csrfMatches(cookieToken, req.header(CSRF_HEADER))) {
      // Cross-site request forgery: a cookie rides along, but only our own pages can echo its CSRF token.
      await this.audit.record({ actor: null, action: 'access.denied', outcome: 'denied', details: { reason: 'csrf', route: routeOf(req) } });
      throw new DomainError(ErrorCode.Forbidden, 'The request lacks a valid X-CSRF-Token header; reload the console and try again.');
    }
    const result = await this.auth.authenticate(match?.[1] ?? cookieToken);
    if (!result.ok && !result.userId) {
      // Anyone can send bogus tokens at will: counted into the periodic summary, not one chain append each.
      this.rejections.count({ action: 'auth.session', reason: result.reason, clientAddress: req.ip ?? 'unknown', route: routeOf(req) });
      throw new DomainError(ErrorCode.Unauthenticated, 'A valid bearer token is required; log in again.');
    }
    if (!result.ok) {
      // A summary only: never the token or any part of it.
      await this.audit.record({
        actor: result.userId ? { id: result.userId, username: result.username ?? 'unknown' } : null,
        action: 'auth.session',
        outcome: 'denied',
        details: { reason: result.reason, route: routeOf(req) },
      });
      throw new DomainError(ErrorCode.Unauthenticated, 'A valid bearer token is required; log in again.');
    }
    req.actor = result.actor;
    req.ability = this.abilities.forActor(result.actor);
    if (result.mustChangePassword && !this.reflector.get<boolean>(ALLOWS_PENDING_PASSWORD_CHANGE, ctx.getHandler())) {
      await this.audit.record({
        actor: result.actor,
        action: 'access.denied',
        outcome: 'denied',
        details: { reason: 'password_change_required', route: routeOf(req) },
      });
      throw new DomainError(ErrorCode.PasswordChangeRequired, 'The password must be changed before anything else (POST /api/v1/auth/password).');
    }
    return true;
  }
}
