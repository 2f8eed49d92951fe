import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { AuditEventsQuery, AuditTrailService, PagingQuery } from '@kura/audit';
import { Actor, CurrentActor } from '@kura/identity';

/** Auditors only (A.8.15); every read here is audited before it is answered. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly trail: AuditTrailService) {}

  @Policy('read', 'AuditEvent')
  @Get('events')
  events(@CurrentActor() actor: Actor, @Query() query: AuditEventsQuery) {
    return this.trail.search(actor, query);
  }

  @Policy('read', 'AuditEvent')
  @Get('verify')
  verify(@CurrentActor() actor: Actor) {
    return this.trail.verify(actor);
  }

  @Policy('read', 'AuditEvent')
  @Get('checkpoints')
  checkpoints(@CurrentActor() actor: Actor, @Query() query: PagingQuery) {
    return this.trail.listCheckpoints(actor, query);
  }

  // Signing the head only attests what is already there (after verifying it), so the
  // auditors who verify may also ask for it; admins may not (separation of duties).
  @Policy('read', 'AuditEvent')
  @Post('checkpoints')
  @HttpCode(201)
  createCheckpoint(@CurrentActor() actor: Actor) {
    return this.trail.createCheckpoint(actor);
  }
}
