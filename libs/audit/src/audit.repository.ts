import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { canonicalJson } from '@kura/common';
import { AuditEventEntity } from './audit-event.entity';
import { eventHash, HashedEvent } from './audit-hash';
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

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /**
   * Appends one link inside the caller's transaction. Locks the chain head row until
   * that transaction ends, so links commit in chain order across any number of
   * instances; time comes from the database clock (UTC, millisecond precision).
   */
  async append(manager: EntityManager, event: NewAuditEvent): Promise<AuditEventEntity> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('audit append needs an active transaction');
    const [head] = (await manager.query(
      `SELECT seq::text AS seq, hash, date_trunc('milliseconds', clock_timestamp()) AS at
         FROM audit_chain_head WHERE id = 1 FOR UPDATE`,
    )) as Array<{ seq: string; hash: string; at: Date }>;
    if (!head) throw new Error('audit chain head is missing');
    const link: HashedEvent = { ...event, seq: (BigInt(head.seq) + 1n).toString(), at: head.at, prevHash: head.hash };
    const hash = eventHash(link);
    await manager.query(
      `INSERT INTO audit_events (seq, at, actor_id, actor_name, action, target_type, target_id, outcome,
                                 client_address, user_agent, request_id, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        link.seq, link.at, link.actorId, link.actorName, link.action, link.targetType, link.targetId, link.outcome,
        link.clientAddress, link.userAgent, link.requestId,
        // Exactly the text the hash covers: the verifier hashes the stored details verbatim.
        canonicalJson(link.details), link.prevHash, hash,
      ],
    );
    await manager.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [link.seq, hash]);
    return Object.assign(new AuditEventEntity(), link, { hash });
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

  /** The access history of one target (e.g. a document), newest first: what happened lately matters most. */
  findByTarget(targetId: string, paging: Paging): Promise<Page<AuditEventView>> {
    return this.search({ targetId }, paging, true);
  }
}
