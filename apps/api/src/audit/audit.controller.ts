import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { AuditEventsQuery, AuditExportService, AuditTrailService, PagingQuery } from '@kura/audit';
import { Actor, CurrentActor } from '@kura/identity';
import { wantsBom } from '../http/csv-bom';
import { exportFile } from './export-response';

/** Auditors only (A.8.15); every read here is audited before it is answered. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(
    private readonly trail: AuditTrailService,
    private readonly exports: AuditExportService,
  ) {}

  /** json: one page; csv, jsonl, pdf: an export of every matching event, as a download. */
  @Policy('read', 'AuditEvent')
  @Get('events')
  @ApiProduces('application/json', 'text/csv', 'application/jsonl', 'application/pdf')
  async events(@CurrentActor() actor: Actor, @Query() query: AuditEventsQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (query.format === undefined || query.format === 'json') return this.trail.search(actor, query);
    res.setHeader('Cache-Control', 'no-store');
    return exportFile(await this.exports.export(actor, query, query.format), query.format === 'csv' && wantsBom(req, query.bom));
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
