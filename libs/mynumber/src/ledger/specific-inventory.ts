import { Injectable } from '@nestjs/common';
import { SpecificDocuments } from '@kura/documents';

export interface SpecificCount {
  department: string;
  seriesId: string | null;
  /** Documents by status (active, on_hold, pending_disposition, destroyed). */
  byStatus: Record<string, number>;
  total: number;
}

/**
 * Oversight without exposure: the inventory shows auditors and records officers how many
 * `specific` documents each department and series holds (the rows themselves stay hidden
 * from non-handlers), so nobody has to be a handler to know what is there.
 */
@Injectable()
export class SpecificInventory {
  constructor(private readonly documents: SpecificDocuments) {}

  async counts(): Promise<SpecificCount[]> {
    const out = new Map<string, SpecificCount>();
    for (const r of await this.documents.counts()) {
      const key = `${r.department}\u0000${r.seriesId ?? ''}`;
      const c = out.get(key) ?? { department: r.department, seriesId: r.seriesId, byStatus: {}, total: 0 };
      c.byStatus[r.status] = r.count;
      c.total += r.count;
      out.set(key, c);
    }
    return [...out.values()];
  }
}
