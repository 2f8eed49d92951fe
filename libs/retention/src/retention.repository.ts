import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { SqlCondition } from '@kura/access';

/**
 * PostgreSQL's version of `addPeriod` (retention-period.ts): interval arithmetic on UTC
 * wall-clock time adds months (clamped to the month's end) before days.
 * retention-date.e2e-spec holds the two equal.
 */
export function dispositionAtSql(triggerAt: string, series: string, prefix = ''): string {
  return `((${triggerAt}) AT TIME ZONE 'UTC' + make_interval(years => ${series}.${prefix}years, months => ${series}.${prefix}months, days => ${series}.${prefix}days)) AT TIME ZONE 'UTC'`;
}

/** When a trigger (`created` or `event:<name>`, in column `column` of s) fired for document d; NULL while waiting. */
const triggerAtSql = (column: string) => `CASE WHEN s.${column} = 'created' THEN d.created_at
  ELSE (SELECT e.occurred_at FROM retention_events e WHERE e.document_id = d.id AND e.event = substr(s.${column}, 7)) END`;

/**
 * The disposition date, as dispositionDate (retention-period.ts): trigger + period, or with a
 * statutory minimum the later of that and minimum trigger + minimum period; NULL while any
 * trigger it depends on is still waiting for its event.
 */
const DISPOSITION_AT = `CASE WHEN t.trigger_at IS NULL OR (s.minimum_trigger IS NOT NULL AND t.minimum_at IS NULL) THEN NULL
  ELSE GREATEST(${dispositionAtSql('t.trigger_at', 's')},
                CASE WHEN s.minimum_trigger IS NOT NULL THEN ${dispositionAtSql('t.minimum_at', 's', 'minimum_')} END) END`;

const ACTIVE_HOLDS = `(SELECT count(*)::int FROM legal_hold_documents hd JOIN legal_holds h ON h.id = hd.hold_id
  WHERE hd.document_id = d.id AND h.released_at IS NULL AND hd.released_at IS NULL)`;

export interface DocumentFacts {
  id: string;
  title: string;
  kind: string;
  classification: number;
  department: string;
  ownerId: string;
  personalData: 'none' | 'personal' | 'specific';
  status: string;
  createdAt: Date;
  seriesId: string | null;
  seriesCode: string | null;
  seriesName: string | null;
  years: number | null;
  months: number | null;
  days: number | null;
  trigger: string | null;
  minimumTrigger: string | null;
  minimumYears: number | null;
  minimumMonths: number | null;
  minimumDays: number | null;
  disposition: 'destroy' | 'review' | null;
  citation: string | null;
  triggerAt: Date | null;
  dispositionAt: Date | null;
  extendedUntil: Date | null;
  activeHolds: number;
  events: Record<string, string>;
}

const FACTS = `
  SELECT d.id, d.title, d.kind, d.classification, d.department, d.owner_id AS "ownerId", d.personal_data AS "personalData", d.status,
         d.created_at AS "createdAt", s.id AS "seriesId", s.code AS "seriesCode", s.name AS "seriesName",
         s.years, s.months, s.days, s.trigger, s.disposition, s.citation,
         s.minimum_trigger AS "minimumTrigger", s.minimum_years AS "minimumYears", s.minimum_months AS "minimumMonths", s.minimum_days AS "minimumDays",
         t.trigger_at AS "triggerAt",
         ${DISPOSITION_AT} AS "dispositionAt",
         x.extended_until AS "extendedUntil",
         ${ACTIVE_HOLDS} AS "activeHolds",
         COALESCE((SELECT jsonb_object_agg(e.event, e.occurred_at) FROM retention_events e WHERE e.document_id = d.id), '{}'::jsonb) AS events
    FROM document_facts d
    LEFT JOIN record_series s ON s.id = d.series_id
    LEFT JOIN LATERAL (SELECT ${triggerAtSql('trigger')} AS trigger_at, ${triggerAtSql('minimum_trigger')} AS minimum_at) t ON s.id IS NOT NULL
    LEFT JOIN retention_extensions x ON x.document_id = d.id`;

/** The due documents admitted by `condition`; `$<nowParam>` is the instant. */
function dueFacts(condition: string, nowParam = 1): string {
  return `SELECT * FROM (${FACTS} WHERE d.status NOT IN ('destroyed', 'pending_disposition') AND d.series_id IS NOT NULL AND (${condition})) f
     WHERE f."dispositionAt" <= $${nowParam}
       AND (f."extendedUntil" IS NULL OR f."extendedUntil" <= $${nowParam})
       AND f."activeHolds" = 0`;
}

export interface VersionFacts {
  id: string;
  documentId: string;
  number: number;
  size: number;
  sha256: string;
  storageKey: string;
  hasKey: boolean;
  createdAt: Date;
}

/**
 * Retention's reads of events, holds and extensions, and of documents through the documents
 * capability's read-only views (`document_facts`, `document_version_facts`): retention never
 * names the documents tables; it changes a document's life through DocumentLifecycle.
 */
@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** Facts for the given documents; `lock` takes their rows FOR UPDATE (execution, holds). */
  async facts(m: EntityManager, ids: string[], lock = false): Promise<DocumentFacts[]> {
    if (!ids.length) return [];
    // Locks in id order, so two transactions locking overlapping sets cannot deadlock.
    if (lock) await m.query(`SELECT id FROM document_facts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
    return (await m.query(`${FACTS} WHERE d.id = ANY($1::uuid[]) ORDER BY d.id`, [ids])) as DocumentFacts[];
  }

  /** Held, not destroyed documents of a series, locked: the ones whose retention must not shrink. */
  async heldInSeries(m: EntityManager, seriesId: string): Promise<DocumentFacts[]> {
    const ids = (await m.query(
      `SELECT DISTINCT d.id FROM document_facts d JOIN legal_hold_documents hd ON hd.document_id = d.id JOIN legal_holds h ON h.id = hd.hold_id
        WHERE d.series_id = $1 AND h.released_at IS NULL AND hd.released_at IS NULL AND d.status <> 'destroyed' ORDER BY d.id`,
      [seriesId],
    )) as Array<{ id: string }>;
    return this.facts(m, ids.map((r) => r.id), true);
  }

  /** Documents whose disposition date has passed at `now`, not (being) destroyed, not extended and not held. */
  due(m: EntityManager, now: Date): Promise<DocumentFacts[]> {
    return m.query(`SELECT * FROM (${dueFacts('TRUE')}) f ORDER BY f."dispositionAt", f.id`, [now]) as Promise<DocumentFacts[]>;
  }

  /**
   * One page of the due list a reader may see: `access` (the SQL of the reader's CASL
   * rules over `documents d`, placeholders from $1) filters before counting and paging,
   * so a hidden document is neither listed nor counted.
   */
  async duePage(m: EntityManager, now: Date, access: SqlCondition, page: { limit: number; offset: number }): Promise<{ rows: DocumentFacts[]; total: number }> {
    const n = access.params.length;
    const inner = dueFacts(access.sql, n + 1);
    const [{ total }] = (await m.query(`SELECT count(*)::int AS total FROM (${inner}) f`, [...access.params, now])) as Array<{ total: number }>;
    const rows = (await m.query(`SELECT * FROM (${inner}) f ORDER BY f."dispositionAt", f.id LIMIT $${n + 2} OFFSET $${n + 3}`, [...access.params, now, page.limit, page.offset])) as DocumentFacts[];
    return { rows, total };
  }

  versions(m: EntityManager, documentIds: string[]): Promise<VersionFacts[]> {
    return m.query(
      `SELECT id, document_id AS "documentId", number, size::bigint::float8 AS size, sha256, storage_key AS "storageKey",
              has_key AS "hasKey", created_at AS "createdAt"
         FROM document_version_facts WHERE document_id = ANY($1::uuid[]) ORDER BY document_id, number`,
      [documentIds],
    ) as Promise<VersionFacts[]>;
  }

  /** Event dates already recorded for these documents (for the shortening check). */
  async eventDates(m: EntityManager, documentIds: string[], event: string): Promise<Map<string, Date>> {
    const rows = (await m.query(`SELECT document_id AS "documentId", occurred_at AS "occurredAt" FROM retention_events WHERE document_id = ANY($1::uuid[]) AND event = $2`, [
      documentIds,
      event,
    ])) as Array<{ documentId: string; occurredAt: Date }>;
    return new Map(rows.map((r) => [r.documentId, r.occurredAt]));
  }

  async upsertEvent(m: EntityManager, documentId: string, event: string, occurredAt: Date, by: string | null, at: Date): Promise<void> {
    await m.query(
      `INSERT INTO retention_events (document_id, event, occurred_at, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ON CONSTRAINT uq_retention_events_document_event
       DO UPDATE SET occurred_at = EXCLUDED.occurred_at, recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by`,
      [documentId, event, occurredAt, at, by],
    );
  }

  async extend(m: EntityManager, documentId: string, until: Date, reason: string, by: string | null, at: Date): Promise<void> {
    await m.query(
      `INSERT INTO retention_extensions (document_id, extended_until, reason, decided_at, decided_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ON CONSTRAINT pk_retention_extensions
       DO UPDATE SET extended_until = GREATEST(retention_extensions.extended_until, EXCLUDED.extended_until),
                     reason = EXCLUDED.reason, decided_at = EXCLUDED.decided_at, decided_by = EXCLUDED.decided_by`,
      [documentId, until, reason, at, by],
    );
  }

  /** true when this (document, disposition date) had not been noticed before. */
  async notice(m: EntityManager, documentId: string, dispositionAt: Date, at: Date): Promise<boolean> {
    const rows = (await m.query(
      `INSERT INTO retention_due_notices (document_id, disposition_at, noticed_at) VALUES ($1, $2, $3)
       ON CONFLICT ON CONSTRAINT pk_retention_due_notices DO NOTHING RETURNING document_id`,
      [documentId, dispositionAt, at],
    )) as unknown[];
    return rows.length === 1;
  }

  /**
   * Claims versions for a fixity run: never-checked first, then the oldest checks. SKIP
   * LOCKED gives concurrent workers disjoint sets; the claim commits before the slow reads.
   */
  async claimFixity(now: Date, limit: number | null): Promise<Array<{ id: string; documentId: string; number: number; sha256: string }>> {
    return this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO fixity_checks (version_id, checked_at)
         SELECT v.id, '-infinity' FROM document_version_facts v WHERE v.has_key
         ON CONFLICT ON CONSTRAINT pk_fixity_checks DO NOTHING`,
      );
      return (await m.query(
        `WITH claimed AS (
           SELECT f.version_id FROM fixity_checks f
             JOIN document_version_facts v ON v.id = f.version_id
             JOIN document_facts d ON d.id = v.document_id
            WHERE v.has_key AND d.status <> 'destroyed'
            ORDER BY f.checked_at, f.version_id
            LIMIT $2
            FOR UPDATE OF f SKIP LOCKED),
         updated AS (
           UPDATE fixity_checks f SET checked_at = $1, ok = NULL FROM claimed, document_version_facts v
            WHERE f.version_id = claimed.version_id AND v.id = f.version_id
           RETURNING v.id, v.document_id AS "documentId", v.number, v.sha256)
         SELECT * FROM updated`,
        [now, limit],
      )) as Array<{ id: string; documentId: string; number: number; sha256: string }>;
    });
  }

  async recordFixity(versionId: string, ok: boolean): Promise<void> {
    await this.dataSource.query(`UPDATE fixity_checks SET ok = $2 WHERE version_id = $1`, [versionId, ok]);
  }
}
