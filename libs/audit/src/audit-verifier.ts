import { hash as digest } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { canonicalJson } from '@kura/common';
import { Signer } from '@kura/signing';
import { checkpointPayload } from './audit-checkpoint.entity';
import { GENESIS_HASH } from './audit-hash';
import { canonicalDetailsFromText, canonicalEventJson, isoFromPgTimestamp } from './canonical-event';

export interface VerifyResult {
  valid: boolean;
  /** Events whose hash and link were recomputed and found good. */
  checked: number;
  /** The lowest sequence number at which a check failed; null when valid. */
  firstInvalidSeq: number | null;
  reason: string | null;
}

export interface ChainHead {
  seq: string;
  hash: string;
}

interface CheckpointRow {
  seq: string;
  hash: string;
  at: string;
  signature: string;
}

// Small batches keep each batch's rows in the young generation (2,000 beat 10,000-20,000 in
// our runs, though those were noisy).
const BATCH = 2_000;
const RAW_TEXT = { getTypeParser: () => (value: string) => value };
const FIELDS = 14;
const UNIT_SEPARATOR = '\x1f';
// What costs most in verification is the client decoding rows, one string per column: so each
// row comes as ONE text, its columns joined by U+001F. Nullable columns are '' for null and '='
// + value otherwise; the others are joined with ||, so a NULL in one of them (constraint dropped
// by a superuser) makes the whole text NULL instead of silently dropping a field. A free-text
// column holding U+001F itself adds a field, so a text that is NULL or does not split into
// exactly FIELDS parts is read again column by column (EVENT_SQL): the split is never trusted
// when it could be ambiguous. details is jsonb text, in which a control character only appears
// escaped. at is timestamptz text in UTC (see isoFromPgTimestamp).
const COLUMNS = [
  'seq::text',
  'at::text',
  `coalesce('=' || actor_id::text, '')`,
  'actor_name',
  'action',
  `coalesce('=' || target_type, '')`,
  `coalesce('=' || target_id, '')`,
  'outcome',
  `coalesce('=' || client_address, '')`,
  `coalesce('=' || user_agent, '')`,
  `coalesce('=' || request_id, '')`,
  'details::text',
  'prev_hash',
  'hash',
];
const EVENTS_SQL = `
  SELECT audit_events.seq::text, ${COLUMNS.join(` || E'\\x1f' || `)}
    FROM audit_events WHERE audit_events.seq >= $1 ORDER BY audit_events.seq LIMIT ${BATCH}`;
const EVENT_SQL = `SELECT ${COLUMNS.join(', ')} FROM audit_events WHERE audit_events.seq = $1`;
const CHECKPOINTS_SQL = `
  SELECT seq::text AS seq, hash, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, signature
    FROM audit_checkpoints`;

const nullable = (v: string): string | null => (v === '' ? null : v.slice(1));

type Row = Array<string | null>;

/**
 * Recomputes the audit chain from the stored rows and checks every signed checkpoint
 * against it. Trusts nothing in the database: not audit_chain_head, not stored hashes.
 * Reads in keyset-paged batches inside one repeatable-read snapshot (constant memory,
 * consistent with concurrent appends).
 */
@Injectable()
export class AuditVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly signer: Signer,
  ) {}

  /** The whole chain from the genesis link, and every checkpoint. */
  async verify(): Promise<VerifyResult> {
    const { head: _head, ...result } = await this.run('full');
    return result;
  }

  /**
   * Only the part after the newest checkpoint (whose signature and hash are checked),
   * and the head found at the end of it: what a new checkpoint may safely sign.
   */
  verifySinceLastCheckpoint(): Promise<VerifyResult & { head: ChainHead | null }> {
    return this.run('tail');
  }

  private async run(mode: 'full' | 'tail'): Promise<VerifyResult & { head: ChainHead | null }> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'`);
      try {
        const checkpoints = (
          await client.query<CheckpointRow>(`${CHECKPOINTS_SQL} ORDER BY audit_checkpoints.seq ${mode === 'full' ? 'ASC' : 'DESC LIMIT 1'}`)
        ).rows;
        return await this.walk(client, checkpoints, mode === 'tail' && checkpoints.length ? Number(checkpoints[0].seq) : 1);
      } finally {
        await client.query('COMMIT');
      }
    } finally {
      await runner.release();
    }
  }

  private async walk(client: PoolClient, checkpoints: CheckpointRow[], startSeq: number): Promise<VerifyResult & { head: ChainHead | null }> {
    let expected = startSeq;
    // From the genesis link the previous hash is known; from a checkpoint, the first row's own
    // prev_hash is taken as given, and the checkpoint itself vouches for that row's hash.
    let prev: string | null = startSeq === 1 ? GENESIS_HASH : null;
    let checked = 0;
    let cp = 0;
    let head: ChainHead | null = null;
    const fail = (seq: number, reason: string) => ({ valid: false, checked, firstInvalidSeq: seq, reason, head });

    if (checkpoints.length && Number(checkpoints[0].seq) < startSeq) {
      return fail(Number(checkpoints[0].seq), `checkpoint ${checkpoints[0].seq} is outside the chain`);
    }

    let next = client.query<Row>({ text: EVENTS_SQL, values: [expected], rowMode: 'array', types: RAW_TEXT });
    for (;;) {
      const rows = (await next).rows;
      if (rows.length === 0) break;
      // Fetch the next page while this one is hashed: the database works while we do.
      next = client.query<Row>({ text: EVENTS_SQL, values: [Number(rows[rows.length - 1][0]) + 1], rowMode: 'array', types: RAW_TEXT });
      for (const [seqColumn, line] of rows) {
        let r = line === null ? [] : line.split(UNIT_SEPARATOR);
        if (r.length !== FIELDS) {
          r = (await client.query<string[]>({ text: EVENT_SQL, values: [seqColumn], rowMode: 'array', types: RAW_TEXT })).rows[0];
        }
        const seqText = r[0];
        const seq = Number(seqText);
        if (seq !== expected) {
          await next.catch(() => undefined);
          return fail(expected, `event ${expected} is missing (the next stored event is ${seqText})`);
        }
        const prevHash = r[12];
        if (prev !== null && prevHash !== prev) {
          await next.catch(() => undefined);
          return fail(seq, `event ${seq} does not link to event ${seq - 1} (prev_hash differs)`);
        }
        const body = canonicalEventJson(
          {
            seq: seqText,
            at: isoFromPgTimestamp(r[1]),
            actorId: nullable(r[2]),
            actorName: r[3],
            action: r[4],
            targetType: nullable(r[5]),
            targetId: nullable(r[6]),
            outcome: r[7],
            clientAddress: nullable(r[8]),
            userAgent: nullable(r[9]),
            requestId: nullable(r[10]),
            prevHash,
          },
          canonicalDetailsFromText(r[11]),
          // prevHash is only trusted once it matched the previous computed hash.
          prev !== null,
        );
        const hash = digest('sha256', body, 'hex');
        if (hash !== r[13]) {
          await next.catch(() => undefined);
          return fail(seq, `event ${seq} was altered (its hash does not match its content)`);
        }
        while (cp < checkpoints.length && Number(checkpoints[cp].seq) === seq) {
          const problem = this.checkCheckpoint(checkpoints[cp], hash);
          if (problem) {
            await next.catch(() => undefined);
            return fail(seq, problem);
          }
          cp++;
        }
        prev = hash;
        head = { seq: seqText, hash };
        checked++;
        expected++;
      }
    }
    if (cp < checkpoints.length) {
      const c = checkpoints[cp];
      if (!this.signatureValid(c)) return fail(Number(c.seq), `checkpoint ${c.seq} has an invalid signature (forged or altered)`);
      // A signed checkpoint vouches that event c.seq existed: events are missing from here on.
      return fail(expected, `the chain ends at event ${expected - 1} but signed checkpoint ${c.seq} covers it: events were removed from the tail`);
    }
    return { valid: true, checked, firstInvalidSeq: null, reason: null, head };
  }

  private checkCheckpoint(c: CheckpointRow, hash: string): string | null {
    if (!this.signatureValid(c)) return `checkpoint ${c.seq} has an invalid signature (forged or altered)`;
    if (c.hash !== hash) return `event ${c.seq} differs from signed checkpoint ${c.seq}: the chain was rewritten up to here`;
    return null;
  }

  private signatureValid(c: CheckpointRow): boolean {
    const payload = Buffer.from(canonicalJson(checkpointPayload(c)), 'utf8');
    return this.signer.verify(payload, Buffer.from(c.signature, 'base64'));
  }
}
