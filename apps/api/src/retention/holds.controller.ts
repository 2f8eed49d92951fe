import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { type Actor, CurrentActor } from '@kura/identity';
import { AmendHoldDto, CreateHoldDto, HoldsService, HoldView } from '@kura/retention';

@ApiTags('holds')
@ApiBearerAuth()
@Controller('holds')
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Policy('manage', 'Hold')
  @Post()
  create(@CurrentActor() actor: Actor, @Body() dto: CreateHoldDto): Promise<HoldView> {
    return this.holds.create(actor, dto);
  }

  @Policy('read', 'Hold')
  @Get()
  list(@CurrentActor() actor: Actor): Promise<{ items: HoldView[] }> {
    return this.holds.list(actor);
  }

  @Policy('manage', 'Hold')
  @Patch(':id')
  amend(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: AmendHoldDto): Promise<HoldView> {
    return this.holds.amend(actor, id, dto);
  }

  @Policy('manage', 'Hold')
  @Post(':id/release')
  @HttpCode(200)
  release(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<HoldView> {
    return this.holds.release(actor, id);
  }
}
