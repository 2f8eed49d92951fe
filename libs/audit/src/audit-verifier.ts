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

const BATCH = 10_000;
const RAW_TEXT = { getTypeParser: () => (value: string) => value };
// Every column as text: no Date or JSON objects per row (see isoFromPgTimestamp).
const EVENTS_SQL = `
  SELECT seq, at, actor_id, actor_name, action,
         target_type, target_id, outcome, client_address, user_agent, request_id, details, prev_hash, hash
    FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT ${BATCH}`;
const CHECKPOINTS_SQL = `
  SELECT seq::text AS seq, hash, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, signature
    FROM audit_checkpoints`;

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
      for (const r of rows) {
        const seqText = r[0] as string;
        const seq = Number(seqText);
        if (seq !== expected) {
          await next.catch(() => undefined);
          return fail(expected, `event ${expected} is missing (the next stored event is ${seqText})`);
        }
        const prevHash = r[12] as string;
        if (prev !== null && prevHash !== prev) {
          await next.catch(() => undefined);
          return fail(seq, `event ${seq} does not link to event ${seq - 1} (prev_hash differs)`);
        }
        const body = canonicalEventJson(
          {
            seq: seqText,
            at: isoFromPgTimestamp(r[1] as string),
            actorId: r[2],
            actorName: r[3] as string,
            action: r[4] as string,
            targetType: r[5],
            targetId: r[6],
            outcome: r[7] as string,
            clientAddress: r[8],
            userAgent: r[9],
            requestId: r[10],
            prevHash,
          },
          canonicalDetailsFromText(r[11] as string),
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
