import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessReviewSignoffEntity } from './access-review-signoff.entity';
import { AccessReviewSignoffRepository } from './access-review-signoff.repository';
import { AccessReviewService } from './access-review.service';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { PasswordPolicy } from './password-policy';
import { PrivilegeGrantEntity } from './privilege-grant.entity';
import { PrivilegeGrantRepository } from './privilege-grant.repository';
import { PrivilegeGrantsService } from './privilege-grants.service';
import { SessionEntity } from './session.entity';
import { SessionRepository } from './session.repository';
import { UserEntity } from './user.entity';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, SessionEntity, AccessReviewSignoffEntity, PrivilegeGrantEntity])],
  providers: [
    UserRepository,
    SessionRepository,
    AccessReviewSignoffRepository,
    PasswordHasher,
    PasswordPolicy,
    AuthService,
    UsersService,
    AccessReviewService,
    PrivilegeGrantRepository,
    PrivilegeGrantsService,
  ],
  // BootstrapAdminService is provided by the api, whose start creates the first administrator (not by every importer, e.g. the CLI).
  exports: [AuthService, UsersService, AccessReviewService, PrivilegeGrantsService, PasswordPolicy, PasswordHasher, UserRepository],
})
export class IdentityModule {}
