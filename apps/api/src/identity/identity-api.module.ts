import { Module } from '@nestjs/common';
import { BootstrapAdminService, IdentityModule } from '@kura/identity';
import { AccessReviewController } from './access-review.controller';
import { AuthController } from './auth.controller';
import { UsersController } from './users.controller';

/** HTTP edge of identity: login, sessions, user administration, access review. */
@Module({
  imports: [IdentityModule],
  controllers: [AuthController, UsersController, AccessReviewController],
  // The api's first start creates the first administrator.
  providers: [BootstrapAdminService],
})
export class IdentityApiModule {}
