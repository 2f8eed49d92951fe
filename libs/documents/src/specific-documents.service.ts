import { Injectable } from '@nestjs/common';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository } from './documents.repository';

/**
 * Read-only facts about documents marked `specific`, for the My Number oversight capability
 * (the handling ledger and the inventory counts), which decides what each reader may see.
 */
@Injectable()
export class SpecificDocuments {
  constructor(private readonly repo: DocumentsRepository) {}

  /** Every `specific` document (destroyed ones included), optionally of one department. */
  list(department?: string): Promise<DocumentEntity[]> {
    return this.repo.specificDocuments(department);
  }

  /** How many `specific` documents each department and series holds, by status. */
  counts(): Promise<Array<{ department: string; seriesId: string | null; status: string; count: number }>> {
    return this.repo.specificCounts();
  }
}
