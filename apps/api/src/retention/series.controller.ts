import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { type Actor, CurrentActor } from '@kura/identity';
import { CreateSeriesDto, SeriesService, SeriesView } from '@kura/retention';

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

  @Policy('read', 'Series')
  @Get()
  list(): Promise<SeriesView[]> {
    return this.series.list();
  }
}
