import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { FilePlanEntry, seedFilePlan } from '../file-plan/file-plan';
import { RetentionRepository } from '../retention.repository';
import { describePeriod, dispositionDate, isShortening, parseTrigger } from '../retention-period';
import { CreateSeriesDto } from './create-series.dto';
import { NewSeries, SeriesRepository, SeriesRow } from './series.repository';
import { UpdateSeriesDto } from './update-series.dto';

/** A series as the API shows it: the stored row, times as ISO text, and the period in words. */
export type SeriesView = Omit<SeriesRow, 'createdAt' | 'updatedAt'> & { retention: string; createdAt: string; updatedAt: string };

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
    private readonly tx: TransactionRunner,
    private readonly repo: SeriesRepository,
    private readonly retention: RetentionRepository,
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
    const row = await this.tx.run(async (m) => {
      const created = await this.repo.insert(m, input, actor.id, this.clock.now());
      if (!created) return null;
      await this.audit.append(m, {
        actor,
        action: 'retention.series.create',
        targetType: 'Series',
        targetId: created.id,
        outcome: 'allowed',
        details: { code: created.code, years: created.years, months: created.months, days: created.days, trigger: created.trigger, disposition: created.disposition },
      });
      return created;
    });
    if (!row) throw new DomainError(ErrorCode.Conflict, `A series with code ${dto.code} already exists.`);
    return seriesView(row);
  }

  /** A change that would let a held record go earlier is refused (A.5.33: holds freeze retention). */
  async update(actor: Actor, id: string, dto: UpdateSeriesDto): Promise<SeriesView> {
    const outcome = await this.tx.run(async (m) => {
      const before = await this.repo.findById(m, id, true);
      if (!before) return { error: DomainError.notFound('series') };
      const after: NewSeries = {
        code: before.code,
        name: dto.name ?? before.name,
        years: dto.years ?? before.years,
        months: dto.months ?? before.months,
        days: dto.days ?? before.days,
        trigger: dto.trigger ?? before.trigger,
        disposition: dto.disposition ?? before.disposition,
        citation: dto.citation ?? before.citation,
      };
      const trigger = parseTrigger(after.trigger)!;
      const shortened = (await this.retention.heldInSeries(m, id))
        .filter((f) => {
          const events = Object.fromEntries(Object.entries(f.events).map(([k, v]) => [k, new Date(v)]));
          return isShortening(f.dispositionAt, dispositionDate({ trigger, period: after, createdAt: f.createdAt, events }));
        })
        .map((f) => f.id);
      if (shortened.length) return { error: new DomainError(ErrorCode.Conflict, 'The change would shorten the retention of documents under legal hold.', { documentIds: shortened }), shortened };
      const row = await this.repo.update(m, id, after, this.clock.now());
      const changed = (Object.keys(after) as Array<keyof NewSeries>).filter((k) => after[k] !== before[k]);
      await this.audit.append(m, {
        actor,
        action: 'retention.series.update',
        targetType: 'Series',
        targetId: id,
        outcome: 'allowed',
        details: { code: before.code, changed, before: Object.fromEntries(changed.map((k) => [k, before[k]])), after: Object.fromEntries(changed.map((k) => [k, after[k]])) },
      });
      return { row };
    });
    if ('error' in outcome) {
      if (outcome.shortened) {
        await this.audit.record({ actor, action: 'retention.series.update', targetType: 'Series', targetId: id, outcome: 'denied', details: { reason: 'held', documentIds: outcome.shortened } });
      }
      throw outcome.error;
    }
    return seriesView(outcome.row);
  }

  /**
   * For the documents capability, inside its transaction, before it changes a document's
   * series: refuses (409) when the document is held and the change would shorten its retention.
   */
  async assertSeriesChangeAllowed(m: EntityManager, documentId: string, newSeriesId: string | null): Promise<void> {
    const [f] = await this.retention.facts(m, [documentId], true);
    if (!f || f.activeHolds === 0 || f.seriesId === newSeriesId) return;
    const next = newSeriesId ? await this.repo.findById(m, newSeriesId) : null;
    if (newSeriesId && !next) throw DomainError.validation('seriesId names no series.', [{ field: 'seriesId', messages: ['seriesId names no series'] }]);
    // Without a series nothing is ever due: never shorter.
    if (!next) return;
    const events = Object.fromEntries(Object.entries(f.events).map(([k, v]) => [k, new Date(v)]));
    const after = dispositionDate({ trigger: parseTrigger(next.trigger)!, period: next, createdAt: f.createdAt, events });
    if (isShortening(f.dispositionAt, after)) {
      throw new DomainError(ErrorCode.Conflict, 'The document is under legal hold: its retention cannot be shortened.', { documentIds: [documentId] });
    }
  }

  /** The file plan, audited as a read (records officers and auditors). */
  async list(actor: Actor): Promise<{ items: SeriesView[] }> {
    const items = (await this.repo.list()).map(seriesView);
    await this.audit.record({ actor, action: 'retention.series.list', targetType: 'Series', outcome: 'allowed', details: { returned: items.length } });
    return { items };
  }

  /** Loads the shipped Japanese file plan; series whose code exists are left as they are. */
  async seed(actor: Actor | null, entries: FilePlanEntry[] = seedFilePlan().series): Promise<SeedResult> {
    return this.tx.run(async (m) => {
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
          targetType: 'Series',
          targetId: row.id,
          outcome: 'allowed',
          details: { code: row.code, years: row.years, months: row.months, days: row.days, trigger: row.trigger, disposition: row.disposition, source: 'seed-file-plan' },
        });
      }
      return result;
    });
  }
}
