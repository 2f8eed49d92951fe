import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { type Actor, CurrentActor } from '@kura/identity';
import { CreateSeriesDto, SeriesService, SeriesView, UpdateSeriesDto } from '@kura/retention';

@ApiTags('retention')
@ApiBearerAuth()
@Controller('retention/series')
export class SeriesController {
  constructor(private readonly series: SeriesService) {}

  @Policy('manage', 'Series')
  @Post()
  create(@CurrentActor() actor: Actor, @Body() dto: CreateSeriesDto): Promise<SeriesView> {
    return this.series.create(actor, dto);
  }

  @Policy('manage', 'Series')
  @Patch(':id')
  update(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateSeriesDto): Promise<SeriesView> {
    return this.series.update(actor, id, dto);
  }

  @Policy('read', 'Series')
  @Get()
  list(@CurrentActor() actor: Actor): Promise<{ items: SeriesView[] }> {
    return this.series.list(actor);
  }
}
