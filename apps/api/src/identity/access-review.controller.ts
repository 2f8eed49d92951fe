import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Policy } from '@kura/access';
import { AccessReview, AccessReviewService, Actor, CreateSignoffDto, CurrentActor, SignoffView } from '@kura/identity';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('reports/access-review')
export class AccessReviewController {
  constructor(private readonly reviews: AccessReviewService) {}

  @Policy('read', 'AccessReview')
  @Get()
  report(@CurrentActor() actor: Actor): Promise<AccessReview> {
    return this.reviews.report(actor);
  }

  @Policy('create', 'AccessReview')
  @Post('signoffs')
  signOff(@CurrentActor() actor: Actor, @Body() dto: CreateSignoffDto): Promise<SignoffView> {
    return this.reviews.signOff(actor, dto.comment);
  }
}
