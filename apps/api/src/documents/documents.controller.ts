import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, ParseUUIDPipe, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { PagingQuery } from '@kura/audit';
import { DocumentContentService, DocumentMetadataService, DocumentQueriesService, DocumentWritesService, ListDocumentsQuery, UpdateDocumentDto } from '@kura/documents';
import { CurrentActor, type Actor } from '@kura/identity';
import { ContentQuery } from './content.query';
import { sendContent } from './content-response';
import { IfMatch } from '../http/if-match';

const UPLOAD_SCHEMA = {
  schema: {
    type: 'object',
    required: ['file', 'title', 'kind', 'classification', 'department'],
    properties: {
      file: { type: 'string', format: 'binary' },
      title: { type: 'string' },
      kind: { type: 'string', enum: ['policy', 'procedure', 'record'] },
      classification: { type: 'string', enum: ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'SECRET'] },
      department: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      personalData: { type: 'string', enum: ['none', 'personal', 'specific'] },
      seriesId: { type: 'string', format: 'uuid' },
      reviewDueAt: { type: 'string', format: 'date-time' },
    },
  },
};

@ApiTags('documents')
@ApiBearerAuth()
@ApiHeader({ name: 'X-Purpose', required: false, description: 'My Number: required on reads, downloads, version lists and new versions of documents marked specific — a permitted purpose code (ASCII, e.g. withholding-slip; see GET /mynumber/purposes). None: 400; not permitted: 403.' })
@Controller('documents')
export class DocumentsController {
  constructor(
    private readonly writes: DocumentWritesService,
    private readonly metadata: DocumentMetadataService,
    private readonly queries: DocumentQueriesService,
    private readonly downloads: DocumentContentService,
  ) {}

  @Post()
  @Policy('create', 'Document')
  @ApiOperation({ summary: 'Upload a document (streamed, encrypted); send the file part last for an early refusal' })
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_SCHEMA)
  create(@CurrentActor() actor: Actor, @Req() req: Request) {
    return this.writes.create(actor, { contentType: req.headers['content-type'], body: req });
  }

  @Get()
  @Policy('read', 'Document')
  @ApiOperation({
    summary: 'Documents the caller may see, newest first',
    description:
      '`{items, page, pageSize, total, totalExact, nextCursor}`. `total` is exact up to 10,000 matches; past that `totalExact` is false and ' +
      'there are more than `total`. For the next page pass `nextCursor` as `after` (keyset, same cost at any depth) instead of `page`.',
  })
  list(@CurrentActor() actor: Actor, @Query() query: ListDocumentsQuery) {
    return this.queries.list(actor, query);
  }

  @Get(':id')
  @Policy('read', 'Document')
  async get(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Res({ passthrough: true }) res: Response) {
    const { document, etag } = await this.queries.get(actor, id);
    res.setHeader('ETag', etag);
    return document;
  }

  @Get(':id/content')
  @Policy('read_content', 'Document')
  @ApiProduces('application/octet-stream', 'application/pdf')
  async content(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Query() query: ContentQuery, @Res() res: Response) {
    await sendContent(res, await this.downloads.download(actor, id, query.version));
  }

  @Post(':id/versions')
  @Policy('version', 'Document')
  @ApiConsumes('multipart/form-data')
  @ApiHeader({ name: 'If-Match', required: true, description: 'the ETag of the current version' })
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' }, comment: { type: 'string' } } } })
  async addVersion(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @IfMatch() ifMatch: string | undefined, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const { document, etag } = await this.writes.addVersion(actor, id, ifMatch, { contentType: req.headers['content-type'], body: req });
    res.setHeader('ETag', etag);
    return document;
  }

  @Get(':id/versions')
  @Policy('read', 'Document')
  versions(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string) {
    return this.queries.listVersions(actor, id);
  }

  @Post(':id/versions/:n/restore')
  @HttpCode(201)
  @Policy('version', 'Document')
  @ApiHeader({ name: 'If-Match', required: false })
  async restore(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Param('n', ParseIntPipe) n: number, @IfMatch() ifMatch: string | undefined, @Res({ passthrough: true }) res: Response) {
    const { document, etag } = await this.writes.restore(actor, id, n, ifMatch);
    res.setHeader('ETag', etag);
    return document;
  }

  // Field-level rules (update vs reclassify vs downgrade) are decided by the service from the same ability.
  @Patch(':id')
  @Policy('read', 'Document')
  async update(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateDocumentDto, @Res({ passthrough: true }) res: Response) {
    const { document, etag } = await this.metadata.update(actor, id, dto);
    res.setHeader('ETag', etag);
    return document;
  }

  @Get(':id/access-history')
  @Policy('read_history', 'Document')
  @ApiOperation({ summary: 'The audit events of one document, newest first, paged with a total' })
  accessHistory(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Query() query: PagingQuery) {
    return this.queries.accessHistory(actor, id, query);
  }
}
