import { SetMetadata } from '@nestjs/common';

export const IS_AUTHENTICATED_ONLY = 'kura:authenticated-only';
export const ALLOWS_PENDING_PASSWORD_CHANGE = 'kura:allows-pending-password-change';

/**
 * Any valid session may call this route: it acts only on the caller's own account
 * (e.g. /auth/me). The third explicit marker next to @Public() and @Policy().
 */
export const Authenticated = (options: { allowPendingPasswordChange?: boolean } = {}): MethodDecorator =>
  ((target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    SetMetadata(IS_AUTHENTICATED_ONLY, true)(target, key, descriptor);
    if (options.allowPendingPasswordChange) SetMetadata(ALLOWS_PENDING_PASSWORD_CHANGE, true)(target, key, descriptor);
  }) as MethodDecorator;
