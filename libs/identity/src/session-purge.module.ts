import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionEntity } from './session.entity';
import { SessionPurgeService } from './session-purge.service';
import { SessionRepository } from './session.repository';

/** What the worker needs of identity: session housekeeping, without the bootstrap or login machinery. */
@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity])],
  providers: [SessionRepository, SessionPurgeService],
  exports: [SessionPurgeService],
})
export class SessionPurgeModule {}
