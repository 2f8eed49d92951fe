import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Policy } from '@kura/access';
import { DocumentQueriesService, inventoryCsv, InventoryQuery } from '@kura/documents';
import { CurrentActor, type Actor } from '@kura/identity';
import { wantsBom, withBom } from '../http/csv-bom';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('reports')
export class InventoryController {
  constructor(private readonly documents: DocumentQueriesService) {}

  /** 情報資産台帳 (A.5.9): metadata only, never content. */
  @Get('inventory')
  @Policy('read', 'Inventory')
  @ApiProduces('application/json', 'text/csv')
  async inventory(@CurrentActor() actor: Actor, @Query() query: InventoryQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const items = await this.documents.inventory(actor, query);
    if (query.format !== 'csv') return { items };
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="inventory.csv"');
    const csv = inventoryCsv(items);
    return wantsBom(req, query.bom) ? withBom(csv) : csv;
  }
}
