import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { type Page, PagingQuery } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
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

@ApiTags('disposition')
@ApiBearerAuth()
@Controller('disposition')
export class DispositionController {
  constructor(private readonly disposition: DispositionService) {}

  @Policy('manage', 'Disposition')
  @Get('due')
  due(@CurrentActor() actor: Actor, @Query() query: PagingQuery): Promise<Page<DueItemView>> {
    return this.disposition.due(actor, query);
  }

  @Policy('read', 'Disposition')
  @Get('batches')
  @ApiOperation({ summary: 'Disposition batches, newest first, paged (document counts only)' })
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
  approve(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: ApproveBatchDto): Promise<BatchView> {
    return this.disposition.approve(actor, id, dto);
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
