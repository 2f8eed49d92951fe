import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Policy } from '@kura/access';
import { Actor, CurrentActor } from '@kura/identity';
import { CreatePurposeDto, LedgerQuery, LedgerService, PurposesService, SetPurposesDto } from '@kura/mynumber';

/** My Number oversight: the purposes list and which purposes series and documents permit. */
@ApiTags('mynumber')
@ApiBearerAuth()
@Controller('mynumber')
export class MyNumberController {
  constructor(
    private readonly purposes: PurposesService,
    private readonly ledgers: LedgerService,
  ) {}

  // Auditors and the responsible officer; the service decides (and audits a refusal).
  @Get('ledger')
  @Policy('read', 'Document')
  @ApiProduces('application/json', 'text/csv', 'application/pdf')
  @ApiOperation({
    summary: 'The My Number handling ledger (特定個人情報 取扱状況記録)',
    description:
      'One line per handling act (create/read/download/version/delete/export) on documents marked specific, from the audit chain: seq, hash, time, actor, ' +
      'document id (title only for its handlers), operation, purpose, outcome. Drawn against a checkpoint signed for the request (`checkpoint`). ' +
      'Auditors and the responsible officer (a records officer designated mynumber_handler) only. pdf: at most 2,000 lines (413).',
  })
  async ledger(@CurrentActor() actor: Actor, @Query() query: LedgerQuery, @Res({ passthrough: true }) res: Response) {
    if (query.format === undefined || query.format === 'json') return this.ledgers.ledger(actor, query);
    const file = await this.ledgers.export(actor, query);
    res.setHeader('Cache-Control', 'no-store');
    return new StreamableFile(file.body, { type: file.contentType, disposition: `attachment; filename="${file.filename}"` });
  }

  @Get('purposes')
  @Policy('read', 'Document')
  @ApiOperation({ summary: 'The purposes list: code (what X-Purpose carries), Japanese and English names' })
  list() {
    return this.purposes.list();
  }

  @Post('purposes')
  @HttpCode(201)
  @Policy('manage', 'Series')
  @ApiOperation({ summary: 'Add a purpose (records officers)' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreatePurposeDto) {
    return this.purposes.create(actor, dto);
  }

  @Post('purposes/:code/retire')
  @HttpCode(200)
  @Policy('manage', 'Series')
  @ApiOperation({ summary: 'Retire a purpose: it permits nothing from now on, and stays in the list and the ledger (records officers)' })
  retire(@CurrentActor() actor: Actor, @Param('code') code: string) {
    return this.purposes.retire(actor, code);
  }

  @Get('series/:id/purposes')
  @Policy('manage', 'Series')
  seriesPurposes(@Param('id', ParseUUIDPipe) id: string) {
    return this.purposes.seriesPurposes(id);
  }

  @Put('series/:id/purposes')
  @Policy('manage', 'Series')
  @ApiOperation({ summary: "The default purposes of a series' specific documents (records officers)" })
  setSeriesPurposes(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: SetPurposesDto) {
    return this.purposes.setSeriesPurposes(actor, id, dto);
  }

  @Put('documents/:id/purposes')
  @Policy('update', 'Document')
  @ApiOperation({ summary: "A specific document's own purposes, replacing its series' defaults ([] falls back to them); handlers who may update it" })
  setDocumentPurposes(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: SetPurposesDto) {
    return this.purposes.setDocumentPurposes(actor, id, dto);
  }
}
