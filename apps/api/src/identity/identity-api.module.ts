import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { KuraConfig } from '@kura/config';
import { BootstrapAdminService, IdentityModule } from '@kura/identity';
import { AccessReviewController } from './access-review.controller';
import { AuthController } from './auth.controller';
import { loginThrottlers, LoginThrottleGuard } from './login-throttle.guard';
import { UsersController } from './users.controller';

/** HTTP edge of identity: login, sessions, user administration, access review. */
@Module({
  imports: [IdentityModule, ThrottlerModule.forRootAsync({ inject: [KuraConfig], useFactory: loginThrottlers })],
  controllers: [AuthController, UsersController, AccessReviewController],
  // The api's first start creates the first administrator.
  providers: [BootstrapAdminService, LoginThrottleGuard],
})
export class IdentityApiModule {}
