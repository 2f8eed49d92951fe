import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { type Page, PagingQuery } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { type Actor, CurrentActor } from '@kura/identity';
import { ApproveBatchDto, BatchSummaryView, BatchView, CertificateFormat, DispositionService, DueItemView, ProposalView, ProposeBatchDto } from '@kura/retention';

/** `Accept` decides the certificate's form; no header or a wildcard means the signed JSON. */
export function certificateFormat(req: Request): CertificateFormat {
  if (!req.headers.accept) return 'json';
  const chosen = req.accepts(['application/json', 'application/pdf']);
  if (chosen === 'application/json') return 'json';
  if (chosen === 'application/pdf') return 'pdf';
  throw new DomainError(ErrorCode.NotAcceptable, 'The certificate is available as application/json or application/pdf.');
}

/**
 * RFC 7240 `Prefer`: `respond-async` answers at once; `wait=N` caps the wait at N seconds.
 * Returns how long approve may wait for the worker, and whether respond-async was applied.
 */
export function approveWait(prefer: string | undefined, maxMs: number): { waitMs: number; respondAsync: boolean } {
  const prefs = (prefer ?? '')
    .split(',')
    .map((p) => p.split(';')[0].trim().toLowerCase())
    .filter(Boolean);
  if (prefs.includes('respond-async')) return { waitMs: 0, respondAsync: true };
  const wait = prefs.map((p) => /^wait\s*=\s*"?(\d{1,6})"?$/.exec(p)).find(Boolean);
  return { waitMs: wait ? Math.min(maxMs, Number(wait[1]) * 1000) : maxMs, respondAsync: false };
}

@ApiTags('disposition')
@ApiBearerAuth()
@Controller('disposition')
export class DispositionController {
  constructor(
    private readonly disposition: DispositionService,
    private readonly config: KuraConfig,
  ) {}

  @Policy('manage', 'Disposition')
  @Get('due')
  due(@CurrentActor() actor: Actor, @Query() query: PagingQuery): Promise<Page<DueItemView>> {
    return this.disposition.due(actor, query);
  }

  @Policy('read', 'Disposition')
  @Get('batches')
  @ApiOperation({ summary: 'Disposition batches, newest first, paged (counts and progress only, no document ids)' })
  batches(@CurrentActor() actor: Actor, @Query() query: PagingQuery): Promise<Page<BatchSummaryView>> {
    return this.disposition.batches(actor, query);
  }

  @Policy('manage', 'Disposition')
  @Post('batches')
  propose(@CurrentActor() actor: Actor, @Body() dto: ProposeBatchDto): Promise<ProposalView> {
    return this.disposition.propose(actor, dto);
  }

  @Policy('read', 'Disposition')
  @Get('batches/:id')
  batch(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<BatchView> {
    return this.disposition.batch(actor, id);
  }

  @Policy('approve', 'Disposition')
  @Post('batches/:id/approve')
  @HttpCode(200)
  @ApiHeader({ name: 'Prefer', required: false, description: 'RFC 7240: `respond-async` answers 202 at once; `wait=N` waits at most N seconds for the worker.' })
  @ApiResponse({ status: 200, description: 'Approved and executed by a worker within the wait: the completed batch with its certificate link.' })
  @ApiResponse({ status: 202, description: 'Approved and queued: a worker is executing it (or will). `Location` is the batch; its `progress` shows how far it is.' })
  @ApiResponse({ status: 409, description: 'The batch is not a proposal (already approved, completed or cancelled), or a document is held or no longer due' })
  async approve(
    @CurrentActor() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ApproveBatchDto,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BatchView> {
    const { waitMs, respondAsync } = approveWait(prefer, this.config.dispositionApproveWaitMs);
    const batch = await this.disposition.approve(actor, id, dto, waitMs);
    if (respondAsync) res.setHeader('Preference-Applied', 'respond-async');
    if (batch.state !== 'completed') res.status(202).setHeader('Location', `/api/v1/disposition/batches/${id}`);
    return batch;
  }

  @Policy('manage', 'Disposition')
  @Post('batches/:id/cancel')
  @HttpCode(200)
  cancel(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<BatchView> {
    return this.disposition.cancel(actor, id);
  }

  @Policy('read', 'Disposition')
  @Get('batches/:id/certificate')
  @ApiProduces('application/json', 'application/pdf')
  @ApiResponse({ status: 200, description: 'The signed certificate: canonical JSON, or its PDF rendering' })
  @ApiResponse({ status: 409, description: 'The batch has not finished executing (or was never approved): no certificate yet' })
  async certificate(
    @CurrentActor() actor: Actor,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const file = await this.disposition.certificate(actor, id, certificateFormat(req));
    res.setHeader('Vary', 'Accept');
    return new StreamableFile(file.body, { type: file.contentType, disposition: `attachment; filename="${file.filename}"`, length: file.body.length });
  }
}
