import { Injectable } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import type { Actor } from '@kura/identity';
import { FilePlanEntry, seedFilePlan } from '../file-plan/file-plan';
import { describePeriod } from '../retention-period';
import { CreateSeriesDto } from './create-series.dto';
import { NewSeries, SeriesRepository, SeriesRow } from './series.repository';

export interface SeriesView {
  id: string;
  code: string;
  name: string;
  years: number;
  months: number;
  days: number;
  trigger: string;
  disposition: 'destroy' | 'review';
  citation: string;
  retention: string;
  createdAt: string;
  updatedAt: string;
}

export function seriesView(s: SeriesRow): SeriesView {
  return {
    id: s.id,
    code: s.code,
    name: s.name,
    years: s.years,
    months: s.months,
    days: s.days,
    trigger: s.trigger,
    disposition: s.disposition,
    citation: s.citation,
    retention: describePeriod(s),
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export interface SeedResult {
  created: string[];
  existing: string[];
}

@Injectable()
export class SeriesService {
  constructor(
    private readonly repo: SeriesRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateSeriesDto): Promise<SeriesView> {
    const input: NewSeries = {
      code: dto.code,
      name: dto.name,
      years: dto.years ?? 0,
      months: dto.months ?? 0,
      days: dto.days ?? 0,
      trigger: dto.trigger,
      disposition: dto.disposition,
      citation: dto.citation,
    };
    const row = await this.repo.dataSource.transaction(async (m) => {
      const created = await this.repo.insert(m, input, actor.id, this.clock.now());
      if (!created) return null;
      await this.audit.append(m, {
        actor,
        action: 'retention.series.create',
        targetType: 'series',
        targetId: created.id,
        outcome: 'allowed',
        details: { code: created.code, years: created.years, months: created.months, days: created.days, trigger: created.trigger, disposition: created.disposition },
      });
      return created;
    });
    if (!row) throw new DomainError(ErrorCode.Conflict, `A series with code ${dto.code} already exists.`);
    return seriesView(row);
  }

  async list(): Promise<SeriesView[]> {
    return (await this.repo.list()).map(seriesView);
  }

  /** Loads the shipped Japanese file plan; series whose code exists are left as they are. */
  async seed(actor: Actor | null, entries: FilePlanEntry[] = seedFilePlan().series): Promise<SeedResult> {
    return this.repo.dataSource.transaction(async (m) => {
      const result: SeedResult = { created: [], existing: [] };
      for (const e of entries) {
        const row = await this.repo.insert(
          m,
          { code: e.code, name: e.name, years: e.years, months: e.months, days: e.days, trigger: e.trigger, disposition: e.disposition, citation: e.citation },
          actor?.id ?? null,
          this.clock.now(),
        );
        if (!row) {
          result.existing.push(e.code);
          continue;
        }
        result.created.push(e.code);
        await this.audit.append(m, {
          actor: actor ? { id: actor.id, username: actor.username } : null,
          actorName: 'system',
          action: 'retention.series.create',
          targetType: 'series',
          targetId: row.id,
          outcome: 'allowed',
          details: { code: row.code, years: row.years, months: row.months, days: row.days, trigger: row.trigger, disposition: row.disposition, source: 'seed-file-plan' },
        });
      }
      return result;
    });
  }
}
