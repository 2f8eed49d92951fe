import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import {
  Actor,
  AdministeredUserView,
  CreateUserDto,
  CurrentActor,
  DecideGrantDto,
  ListGrantsQuery,
  PrivilegeGrantsService,
  PrivilegeGrantView,
  UpdateUserDto,
  UsersService,
} from '@kura/identity';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly grants: PrivilegeGrantsService,
  ) {}

  @Policy('create', 'User')
  @Post()
  create(@CurrentActor() actor: Actor, @Body() dto: CreateUserDto): Promise<AdministeredUserView> {
    return this.users.create(actor, dto);
  }

  @Policy('read', 'User')
  @Get()
  list(@CurrentActor() actor: Actor): Promise<{ items: AdministeredUserView[] }> {
    return this.users.list(actor);
  }

  // Declared before `:id` so that `grants` is not taken for a user id.
  @Policy('read', 'User')
  @Get('grants')
  listGrants(@CurrentActor() actor: Actor, @Query() query: ListGrantsQuery): Promise<{ items: PrivilegeGrantView[] }> {
    return this.grants.list(actor, query);
  }

  @Policy('update', 'User')
  @Post('grants/:grantId/approve')
  @HttpCode(200)
  approveGrant(@CurrentActor() actor: Actor, @Param('grantId', ParseUUIDPipe) id: string, @Body() dto: DecideGrantDto): Promise<PrivilegeGrantView> {
    return this.grants.approve(actor, id, dto.comment);
  }

  @Policy('update', 'User')
  @Post('grants/:grantId/reject')
  @HttpCode(200)
  rejectGrant(@CurrentActor() actor: Actor, @Param('grantId', ParseUUIDPipe) id: string, @Body() dto: DecideGrantDto): Promise<PrivilegeGrantView> {
    return this.grants.reject(actor, id, dto.comment);
  }

  @Policy('read', 'User')
  @Get(':id')
  get(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<AdministeredUserView> {
    return this.users.read(actor, id);
  }

  @Policy('update', 'User')
  @Patch(':id')
  update(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateUserDto): Promise<AdministeredUserView> {
    return this.users.update(actor, id, dto);
  }

  @Policy('update', 'User')
  @Post(':id/deactivate')
  @HttpCode(200)
  deactivate(@CurrentActor() actor: Actor, @Param('id', ParseUUIDPipe) id: string): Promise<AdministeredUserView> {
    return this.users.deactivate(actor, id);
  }
}
