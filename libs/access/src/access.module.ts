import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { IdentityModule } from '@kura/identity';
import { AbilityFactory } from './ability.factory';
import { AuthGuard } from './auth.guard';
import { PolicyGuard } from './policy.guard';

/**
 * Registers the two global guards, in this order: authenticate, then authorize. Global, so
 * any capability module can inject AbilityFactory without re-importing it.
 */
@Global()
@Module({
  imports: [IdentityModule],
  providers: [AbilityFactory, { provide: APP_GUARD, useClass: AuthGuard }, { provide: APP_GUARD, useClass: PolicyGuard }],
  exports: [AbilityFactory],
})
export class AccessModule {}
