import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { Actor, CurrentActor } from '@kura/identity';
import { CreatePurposeDto, PurposesService, SetPurposesDto } from '@kura/mynumber';

/** My Number oversight: the purposes list and which purposes series and documents permit. */
@ApiTags('mynumber')
@ApiBearerAuth()
@Controller('mynumber')
export class MyNumberController {
  constructor(private readonly purposes: PurposesService) {}

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
