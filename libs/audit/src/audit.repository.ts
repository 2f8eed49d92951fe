import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity';
import { eventHash, HashedEvent } from './audit-hash';

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
        link.clientAddress, link.userAgent, link.requestId, JSON.stringify(link.details), link.prevHash, hash,
      ],
    );
    await manager.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [link.seq, hash]);
    return Object.assign(new AuditEventEntity(), link, { hash });
  }
}
