import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { canonicalJson } from '@kura/common';
import { HashedEvent, storedEventHash } from './audit-hash';
import type { AuditEventFilter, AuditEventView, Page, Paging } from './audit-query.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface EventRow {
  seq: string;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: AuditEventView['outcome'];
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const toView = (r: EventRow): AuditEventView => ({
  seq: Number(r.seq),
  at: r.at.toISOString(),
  actorId: r.actor_id,
  actorName: r.actor_name,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  outcome: r.outcome,
  clientAddress: r.client_address,
  userAgent: r.user_agent,
  requestId: r.request_id,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

const VIEW_COLUMNS = `seq::text AS seq, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address,
       user_agent, request_id, details, prev_hash, hash`;

/** The SQL filter shared by the paged search and the exports, so both select the same events. */
function whereOf(filter: AuditEventFilter): { clause: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actor !== undefined) bind(UUID.test(filter.actor) ? 'actor_id = ?::uuid' : 'actor_name = ?', filter.actor);
  if (filter.action !== undefined) bind('action = ?', filter.action);
  if (filter.targetId !== undefined) bind('target_id = ?', filter.targetId);
  if (filter.outcome !== undefined) bind('outcome = ?', filter.outcome);
  if (filter.from !== undefined) bind('at >= ?', filter.from);
  if (filter.to !== undefined) bind('at < ?', filter.to);
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

export type NewAuditEvent = Omit<HashedEvent, 'seq' | 'at' | 'prevHash'>;

/** An event recorded in its transaction and not chained yet. */
export interface PendingAuditEvent {
  pendingId: string;
  at: Date;
  event: NewAuditEvent;
  /** The canonical JSON text stored for `event.details`. */
  detailsText: string;
}

/** A link as the sequencer wrote it (or as found later), with the pending row it came from. */
export interface ChainedEvent extends Omit<HashedEvent, 'details'> {
  pendingId: string;
  detailsText: string;
  hash: string;
  /** The database time of chaining (null when found afterwards). */
  chainedAt: Date | null;
}

/** A connection the sequencer owns (pg Client): its SQL runs outside the request pool. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface ChainHeadRow {
  seq: string;
  hash: string;
  /** The database clock when the batch was read. */
  now: Date;
}

export interface PendingRow {
  id: string;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string;
}

/** How many transactions and savepoints are open on `runner` (TypeORM tracks it; its type hides it). */
const depthOf = (runner: QueryRunner): number => (runner as unknown as { transactionDepth: number }).transactionDepth;

/** Arbitrary but fixed ("kuraseq"): the one sequencer lock, across every instance. */
export const AUDIT_SEQUENCER_LOCK = 0x6b7572617365;

@Injectable()
export class AuditRepository {
  /** The events each open transaction recorded, with the depth (savepoints) it recorded them at. */
  private readonly written = new WeakMap<QueryRunner, Array<{ pending: PendingAuditEvent; depth: number }>>();

  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** What the transaction of `runner` recorded, once it committed (the sequencer then chains and awaits them). */
  takeWritten(runner: QueryRunner): PendingAuditEvent[] {
    const list = this.written.get(runner) ?? [];
    this.written.delete(runner);
    return list.map((l) => l.pending);
  }

  /** Forgets what a rolled-back transaction, or savepoint, recorded: those events never existed. */
  forgetRolledBack(runner: QueryRunner): void {
    const list = this.written.get(runner);
    if (!list) return;
    const kept = list.filter((l) => l.depth <= depthOf(runner));
    if (kept.length) this.written.set(runner, kept);
    else this.written.delete(runner);
  }

  /**
   * Records one event inside the caller's transaction, in audit_pending: no lock beyond the
   * row itself, so audited transactions never wait for one another. The sequencer chains it
   * once the transaction commits; if the transaction rolls back, the event never existed.
   * Time comes from the database clock (UTC, millisecond precision), when the act happened.
   */
  async append(manager: EntityManager, event: NewAuditEvent): Promise<PendingAuditEvent> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('audit append needs an active transaction');
    // Exactly the text the hash will cover: the verifier hashes the stored details verbatim.
    const detailsText = canonicalJson(event.details);
    const [row] = (await manager.query(
      `INSERT INTO audit_pending (actor_id, actor_name, action, target_type, target_id, outcome, client_address, user_agent, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id::text AS id, at`,
      [
        event.actorId, event.actorName, event.action, event.targetType, event.targetId, event.outcome,
        event.clientAddress, event.userAgent, event.requestId, detailsText,
      ],
    )) as Array<{ id: string; at: Date }>;
    const pending = { pendingId: row.id, at: row.at, event, detailsText };
    const runner = manager.queryRunner;
    this.written.set(runner, [...(this.written.get(runner) ?? []), { pending, depth: depthOf(runner) }]);
    return pending;
  }

  /**
   * Begins a transaction on `client` holding the sequencer lock (one sequencer at a time
   * across every instance) and reads the chain head and up to `limit` committed pending
   * events, oldest first — one round trip: a pass is short, and round trips are most of it.
   * Null (and no transaction) when another sequencer holds the lock longer than `timeoutMs`.
   */
  async openBatch(client: Queryable, timeoutMs: number, limit: number): Promise<{ head: ChainHeadRow; pending: PendingRow[] } | null> {
    let results: Array<{ rows: unknown[] }>;
    try {
      // Literals, not parameters (a multi-statement query cannot take any): both are integers.
      results = (await client.query(
        `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}; SELECT pg_advisory_xact_lock(${AUDIT_SEQUENCER_LOCK});
         SELECT seq::text AS seq, hash, clock_timestamp() AS now FROM audit_chain_head WHERE id = 1 FOR UPDATE;
         SELECT id::text AS id, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address,
                user_agent, request_id, details::text AS details
           FROM audit_pending ORDER BY audit_pending.id LIMIT ${Math.max(1, Math.floor(limit))}`,
      )) as unknown as Array<{ rows: unknown[] }>;
    } catch (err) {
      await client.query('ROLLBACK');
      if ((err as { code?: string }).code === '55P03') return null;
      throw err;
    }
    const head = results[3].rows[0] as ChainHeadRow | undefined;
    if (!head) throw new Error('audit chain head is missing');
    return { head, pending: results[4].rows as PendingRow[] };
  }

  /**
   * Chains `pending` after `head` in the caller's transaction (opened by openBatch): assigns
   * seq, prev_hash and hash, inserts the links into audit_events, deletes the pending rows and
   * moves the head, in one statement. `beforeWrite` runs first (tests hold it at a barrier).
   */
  async chainBatch(client: Queryable, head: ChainHeadRow, pending: PendingRow[], beforeWrite?: () => Promise<void>): Promise<ChainedEvent[]> {
    if (pending.length === 0) return [];
    if (beforeWrite) await beforeWrite();
    let seq = BigInt(head.seq);
    let prevHash = head.hash;
    const chained: ChainedEvent[] = pending.map((p) => {
      seq += 1n;
      const link = {
        seq: seq.toString(), at: p.at, actorId: p.actor_id, actorName: p.actor_name, action: p.action, targetType: p.target_type,
        targetId: p.target_id, outcome: p.outcome, clientAddress: p.client_address, userAgent: p.user_agent, requestId: p.request_id, prevHash,
      };
      const hash = storedEventHash(link, p.details);
      prevHash = hash;
      return { ...link, pendingId: p.id, detailsText: p.details, hash, chainedAt: head.now };
    });
    const col = <K extends keyof ChainedEvent>(k: K) => chained.map((c) => c[k]);
    const last = chained[chained.length - 1];
    await client.query(
      `WITH chained AS (
         INSERT INTO audit_events (seq, at, actor_id, actor_name, action, target_type, target_id, outcome, client_address, user_agent,
                                   request_id, details, prev_hash, hash, pending_id)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                              $9::text[], $10::text[], $11::text[], $12::json[], $13::text[], $14::text[], $15::bigint[])
         RETURNING pending_id),
       removed AS (DELETE FROM audit_pending WHERE id IN (SELECT pending_id FROM chained))
       UPDATE audit_chain_head SET seq = $16, hash = $17 WHERE id = 1`,
      [
        col('seq'), col('at'), col('actorId'), col('actorName'), col('action'), col('targetType'), col('targetId'), col('outcome'),
        col('clientAddress'), col('userAgent'), col('requestId'), col('detailsText'), col('prevHash'), col('hash'), col('pendingId'),
        last.seq, last.hash,
      ],
    );
    return chained;
  }

  /**
   * Where the given pending events are now: chained (found by pending_id, whichever
   * instance chained them), still pending, or neither (deleted before chaining).
   */
  async locate(client: Queryable, pendingIds: string[]): Promise<{ chained: ChainedEvent[]; stillPending: Set<string> }> {
    // Pending first: a row leaves audit_pending in the same commit that adds it to audit_events,
    // so one not pending now is, if chained at all, already visible as an event below.
    const stillPending = (await client.query<{ id: string }>(`SELECT id::text AS id FROM audit_pending WHERE id = ANY($1::bigint[])`, [pendingIds])).rows;
    const chained = (
      await client.query<EventRow & { pending_id: string; details_text: string }>(
        `SELECT ${VIEW_COLUMNS}, pending_id::text AS pending_id, details::text AS details_text FROM audit_events WHERE pending_id = ANY($1::bigint[])`,
        [pendingIds],
      )
    ).rows.map((r) => ({ ...toView(r), seq: r.seq, at: r.at, pendingId: r.pending_id, detailsText: r.details_text, chainedAt: null }));
    return { chained, stillPending: new Set(stillPending.map((r) => r.id)) };
  }

  /** Whether anything waits to be chained (the idle tick's cheap look). */
  async hasPending(client: Queryable): Promise<boolean> {
    return (await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM audit_pending) AS any`)).rows[0].any;
  }

  /** Events matching every given filter, in chain order (oldest first unless `newestFirst`), one page. */
  async search(filter: AuditEventFilter, paging: Paging, newestFirst = false): Promise<Page<AuditEventView>> {
    const { clause, params } = whereOf(filter);
    const rows = (await this.dataSource.query(
      `SELECT ${VIEW_COLUMNS} FROM audit_events ${clause} ORDER BY audit_events.seq${newestFirst ? ' DESC' : ''} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, paging.pageSize, (paging.page - 1) * paging.pageSize],
    )) as EventRow[];
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total FROM audit_events ${clause}`, params)) as Array<{ total: number }>;
    return { items: rows.map(toView), page: paging.page, pageSize: paging.pageSize, total };
  }

  /**
   * The newest event now, and how many events up to it match: an export reads only up to
   * `upTo`, so what it sends is exactly what it counted and audited, however many events
   * (its own audit event included) are appended while it streams. One statement, one snapshot.
   */
  async exportSnapshot(filter: AuditEventFilter): Promise<{ upTo: string; total: number }> {
    const { clause, params } = whereOf(filter);
    const [row] = (await this.dataSource.query(
      `WITH head AS (SELECT coalesce(max(seq), 0) AS seq FROM audit_events)
       SELECT (SELECT seq FROM head)::text AS "upTo",
              (SELECT count(*)::int FROM audit_events ${clause ? `${clause} AND` : 'WHERE'} seq <= (SELECT seq FROM head)) AS total`,
      params,
    )) as Array<{ upTo: string; total: number }>;
    return row;
  }

  /**
   * One keyset batch for an export: matching events with afterSeq < seq <= upTo, in chain
   * order. Keyset rather than OFFSET, so every batch is an index range scan on the primary
   * key and a million-event export costs the same per batch at the end as at the start.
   */
  async exportBatch(filter: AuditEventFilter, afterSeq: string, upTo: string, limit: number): Promise<AuditEventView[]> {
    const { clause, params } = whereOf(filter);
    const n = params.length;
    const rows = (await this.dataSource.query(
      `SELECT ${VIEW_COLUMNS} FROM audit_events ${clause ? `${clause} AND` : 'WHERE'} seq > $${n + 1}::bigint AND seq <= $${n + 2}::bigint
        ORDER BY audit_events.seq LIMIT $${n + 3}`,
      [...params, afterSeq, upTo, limit],
    )) as EventRow[];
    return rows.map(toView);
  }

  /**
   * The contiguous sequence range of the events stored in [from, to) and [fromSeq, toSeq], up to seq upTo: the first and
   * the last such event (by seq), with the hash the first links to and the last one's hash.
   * Every event between them belongs to the range, whatever its time (the chain is the order).
   */
  async seqRange(
    q: { from?: Date; to?: Date; fromSeq?: number; toSeq?: number },
    upTo: string,
  ): Promise<{ firstSeq: string; lastSeq: string; firstPrevHash: string; lastHash: string } | null> {
    const [row] = (await this.dataSource.query(
      `WITH r AS (SELECT min(seq) AS first, max(seq) AS last FROM audit_events
                   WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) AND seq <= $3::bigint
                     AND ($4::bigint IS NULL OR seq >= $4) AND ($5::bigint IS NULL OR seq <= $5))
       SELECT r.first::text AS "firstSeq", r.last::text AS "lastSeq",
              (SELECT prev_hash FROM audit_events WHERE seq = r.first) AS "firstPrevHash",
              (SELECT hash FROM audit_events WHERE seq = r.last) AS "lastHash"
         FROM r WHERE r.first IS NOT NULL`,
      [q.from ?? null, q.to ?? null, upTo, q.fromSeq ?? null, q.toSeq ?? null],
    )) as Array<{ firstSeq: string; lastSeq: string; firstPrevHash: string; lastHash: string }>;
    return row ?? null;
  }

  /**
   * Events about any of `targetIds` whose action is one of `actions`, in [from, to), with
   * afterSeq < seq <= upTo, in chain order: one keyset batch (for reports built from the chain).
   */
  async batchForTargets(q: { targetIds: string[]; actions: string[]; from?: Date; to?: Date }, afterSeq: string, upTo: string, limit: number): Promise<AuditEventView[]> {
    if (q.targetIds.length === 0 || q.actions.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT ${VIEW_COLUMNS} FROM audit_events
        WHERE target_id = ANY($1::text[]) AND action = ANY($2::text[])
          AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
          AND seq > $5::bigint AND seq <= $6::bigint
        ORDER BY audit_events.seq LIMIT $7`,
      [q.targetIds, q.actions, q.from ?? null, q.to ?? null, afterSeq, upTo, limit],
    )) as EventRow[];
    return rows.map(toView);
  }

  /** The access history of one target (e.g. a document), newest first: what happened lately matters most. */
  findByTarget(targetId: string, paging: Paging): Promise<Page<AuditEventView>> {
    return this.search({ targetId }, paging, true);
  }
}
