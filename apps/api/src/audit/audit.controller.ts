import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { AuditEventsQuery, AuditEvidenceQuery, AuditEvidenceService, AuditExportService, AuditTrailService, PagingQuery } from '@kura/audit';
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
    private readonly evidence: AuditEvidenceService,
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
  @Get('evidence')
  @ApiProduces('application/x-tar')
  @ApiOperation({
    summary: 'Evidence bundle: a contiguous event range, its checkpoints, public keys and a signed manifest',
    description:
      'A ustar archive: manifest.json (RFC 8785 JSON, signed), manifest.sig (raw Ed25519), keys/<keyId>.pub.pem, checkpoints.jsonl, events.jsonl. ' +
      'from/to (ISO 8601) select the events stored in that window as one contiguous seq range; fromSeq/toSeq (inclusive) bound it by sequence number. actor, action, targetId or outcome make a filtered ' +
      'export, which proves each event authentic but not complete. Verify offline with `npm run cli -- audit verify-bundle <file>` (docs/security.md). ' +
      '500 integrity-failed when the chain does not verify (nothing is signed).',
  })
  async evidenceBundle(@CurrentActor() actor: Actor, @Query() query: AuditEvidenceQuery, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    return exportFile(await this.evidence.export(actor, query));
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
