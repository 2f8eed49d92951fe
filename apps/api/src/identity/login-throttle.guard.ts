import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerOptions, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from '@kura/common';
import type { KuraConfig } from '@kura/config';
import { AuthRejectionTally } from '@kura/identity';
import type { AccessRequest } from '@kura/access';

/** The username a login or password change is about: the body's for a login, the session's otherwise. */
function usernameOf(req: Request & Partial<AccessRequest>): string {
  const body = req.body as { username?: unknown } | undefined;
  const name = typeof body?.username === 'string' ? body.username : (req.actor?.username ?? '');
  return name.slice(0, 64).toLowerCase();
}

/**
 * Per client address and per username: the address limit is below the username limit, so
 * one client cannot use up an account's budget and shut its owner out.
 */
export function loginThrottlers(config: KuraConfig): ThrottlerModuleOptions {
  const ttl = config.loginRateWindowSeconds * 1000;
  const throttlers: ThrottlerOptions[] = [
    { name: 'address', ttl, limit: config.loginRateLimitPerAddress, getTracker: (req) => (req as Request).ip ?? 'unknown' },
    { name: 'username', ttl, limit: config.loginRateLimitPerUsername, getTracker: (req) => `user:${usernameOf(req as Request)}` },
  ];
  return { throttlers, setHeaders: false };
}

/** 429 problem+json with `Retry-After`; each refusal counted in the audited rejection summary. */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly rejections: AuthRejectionTally,
  ) {
    super(options, storage, reflector);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<Request & Partial<AccessRequest>>();
    const res = context.switchToHttp().getResponse<Response>();
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    res.setHeader('Retry-After', String(retryAfter));
    this.rejections.count({ action: 'auth.throttled', reason: detail.tracker.startsWith('user:') ? 'username-rate' : 'address-rate', clientAddress: req.ip ?? 'unknown', username: usernameOf(req) || undefined, route: `${req.method} ${req.baseUrl}${req.path}` });
    throw new DomainError(ErrorCode.TooManyRequests, 'Too many attempts; try again later.', { retryAfterSeconds: retryAfter });
  }
}
