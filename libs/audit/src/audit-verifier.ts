import { hash } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { canonicalJson } from '@kura/common';
import { copyOut } from '@kura/database';
import { KuraConfig } from '@kura/config';
import { Signer } from '@kura/signing';
import { checkpointPayload } from './audit-checkpoint.entity';
import { GENESIS_HASH, HASHED_COLUMNS } from './audit-hash';

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
  keyId: string;
  signature: string;
}

// The binary COPY stream opens with this signature, then 32-bit flags and a 32-bit header
// extension length; it ends with a 16-bit -1.
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const FIELDS = HASHED_COLUMNS.length + 1;
const HASH = HASHED_COLUMNS.length;
const PREV_HASH = HASHED_COLUMNS.indexOf('prev_hash');
const CHECKPOINTS_SQL = `
  SELECT seq::text AS seq, hash, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, key_id AS "keyId", signature
    FROM audit_checkpoints`;

/** Every event from `from` on, in chain order: the hashed columns, then the stored hash. */
function eventsCopySql(from: number, before?: number): string {
  for (const n of [from, before ?? from]) if (!Number.isSafeInteger(n) || n < 1) throw new Error(`invalid sequence number ${n}`);
  return `COPY (SELECT ${HASHED_COLUMNS.join(', ')}, hash FROM audit_events
                 WHERE seq >= ${from}${before === undefined ? '' : ` AND seq < ${before}`} ORDER BY seq)
            TO STDOUT (FORMAT binary)`;
}

type Outcome = VerifyResult & { head: ChainHead | null };

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const GENESIS_DIGEST = Buffer.from(GENESIS_HASH, 'hex').toString('latin1');
/** Committed events older than this and still unchained fail verification (AUDIT_CHAIN_WINDOW_MS). */
export const DEFAULT_CHAIN_WINDOW_MS = 1_000;
/** Below this many events a second connection costs more than it saves. */
const SPLIT_ABOVE = 50_000;

/** Whether the 64 bytes at `at` are the lowercase hex of `digest` (32 bytes as a latin1 string). */
function isHexOf(chunk: Buffer, at: number, digest: string): boolean {
  for (let i = 0; i < 32; i++) {
    const b = digest.charCodeAt(i);
    if (chunk[at + 2 * i] !== HEX_DIGITS[b >> 4] || chunk[at + 2 * i + 1] !== HEX_DIGITS[b & 15]) return false;
  }
  return true;
}

const hex = (digest: string): string => Buffer.from(digest, 'latin1').toString('hex');

/**
 * Recomputes the audit chain from the stored rows and checks every signed checkpoint
 * against it. Trusts nothing in the database: not audit_chain_head, not stored hashes.
 * Streams the rows with COPY inside one repeatable-read snapshot (constant memory,
 * consistent with concurrent appends) and hashes each row's bytes as PostgreSQL sends them:
 * the hash is defined over exactly that encoding (encodeEvent), so nothing is decoded.
 * A long chain is read as two halves on two connections sharing the snapshot, so the
 * database formats one half while this process checks the other.
 */
@Injectable()
export class AuditVerifier {
  /**
   * Committed events must be chained within this many milliseconds; verification fails on
   * older pending ones (until chained they can be altered or removed without a trace).
   */
  readonly windowMs: number;
  /** The newest checkpoint a successful verification covered, remembered for the incremental one. */
  private lastVerified: CheckpointRow | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly signer: Signer,
    @Optional() config?: KuraConfig,
  ) {
    this.windowMs = config?.auditChainWindowMs ?? DEFAULT_CHAIN_WINDOW_MS;
  }

  /** Chains with more events than this are read in two halves (tests lower it to cover that path). */
  splitAbove = SPLIT_ABOVE;

  /** The whole chain from the genesis link, every checkpoint, and no event left unchained past the window. */
  async verify(): Promise<VerifyResult> {
    const { head: _head, ...result } = await this.run('full');
    return result;
  }

  /**
   * As verify(), but from the newest checkpoint that an earlier verification by this process
   * covered (O(events since)); the whole chain when there is none. What lies before that
   * checkpoint was verified then and is vouched for by its signature now; only a full
   * verification would notice it rewritten since.
   */
  async verifyIncremental(): Promise<VerifyResult & { from: number }> {
    const from = this.lastVerified;
    const { head: _head, ...result } = await this.run(from ? 'incremental' : 'full');
    return { ...result, from: from ? Number(from.seq) : 1 };
  }

  /**
   * Only the part after the newest checkpoint (whose signature and hash are checked),
   * and the head found at the end of it: what a new checkpoint may safely sign.
   */
  verifySinceLastCheckpoint(): Promise<Outcome> {
    return this.run('tail');
  }

  private async run(mode: 'full' | 'tail' | 'incremental'): Promise<Outcome> {
    const outcome = await this.inSnapshot(null, async (client) => {
      const walked = await this.walk(client, mode);
      // A broken chain is reported first (it names a seq); tail mode (checkpoints) only vouches for chained events.
      return walked.valid && mode !== 'tail' ? this.checkPending(client, walked) : walked;
    });
    if (outcome.valid && mode !== 'tail' && outcome.covered) this.lastVerified = outcome.covered;
    const { covered: _covered, ...rest } = outcome;
    return rest;
  }

  /** Committed events still unchained after the window: a stopped or blocked sequencer, or a held-back row. */
  private async checkPending(client: PoolClient, walked: Outcome & { covered: CheckpointRow | null }): Promise<Outcome & { covered: CheckpointRow | null }> {
    const [stale] = (
      await client.query<{ n: number; id: string | null; at: string | null }>(
        `SELECT count(*)::int AS n, min(id)::text AS id, to_char(min(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
           FROM audit_pending WHERE at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)`,
        [this.windowMs],
      )
    ).rows;
    if (stale.n === 0) return walked;
    const next = walked.head ? Number(walked.head.seq) + 1 : 1;
    return {
      ...walked,
      valid: false,
      firstInvalidSeq: next,
      reason: `${stale.n} audit event(s) recorded more than ${this.windowMs} ms ago are still unchained (oldest: pending ${stale.id} at ${stale.at}): the sequencer is stopped or blocked, and unchained events can be altered or removed without a trace`,
    };
  }

  private async walk(client: PoolClient, mode: 'full' | 'tail' | 'incremental'): Promise<Outcome & { covered: CheckpointRow | null }> {
    const remembered = this.lastVerified;
    const checkpoints = (
      mode === 'incremental' && remembered
        ? await client.query<CheckpointRow>(`${CHECKPOINTS_SQL} WHERE seq >= $1 ORDER BY audit_checkpoints.seq ASC`, [remembered.seq])
        : await client.query<CheckpointRow>(`${CHECKPOINTS_SQL} ORDER BY audit_checkpoints.seq ${mode === 'tail' ? 'DESC LIMIT 1' : 'ASC'}`)
    ).rows;
    if (mode === 'incremental' && remembered && (checkpoints[0]?.seq !== remembered.seq || checkpoints[0].hash !== remembered.hash || checkpoints[0].signature !== remembered.signature)) {
      return { valid: false, checked: 0, firstInvalidSeq: Number(remembered.seq), reason: `checkpoint ${remembered.seq} changed or vanished since it was last verified`, head: null, covered: null };
    }
    const covered = (head: ChainHead | null): CheckpointRow | null =>
      head ? ([...checkpoints].reverse().find((c) => Number(c.seq) <= Number(head.seq)) ?? null) : null;
    const result = await this.walkFrom(client, mode, checkpoints);
    return { ...result, covered: covered(result.head) };
  }

  private async walkFrom(client: PoolClient, mode: 'full' | 'tail' | 'incremental', checkpoints: CheckpointRow[]): Promise<Outcome> {
    const startSeq = mode !== 'full' && checkpoints.length ? Number(checkpoints[0].seq) : 1;
    if (!Number.isSafeInteger(startSeq) || startSeq < 1) {
      // Only a forged row holds such a seq: the chain never reaches it.
      return { valid: false, checked: 0, firstInvalidSeq: startSeq, reason: `checkpoint ${checkpoints[0].seq} is outside the chain`, head: null };
    }
    const verifySignature = (c: CheckpointRow) => this.signatureValid(c);
    const first = new ChainWalk(checkpoints, startSeq, verifySignature);
    if (first.outcome !== null) return first.outcome;

    // Where to split: half way to the last stored event (tampering can only make it a poor split).
    const last = Number((await client.query<{ seq: string }>(`SELECT max(seq)::text AS seq FROM audit_events`)).rows[0].seq ?? 0);
    // A seq beyond 2^53 (forged: the chain cannot be that long) is read, and reported, by one stream.
    if (!Number.isSafeInteger(last) || last - startSeq + 1 <= this.splitAbove) {
      await copyOut(client, eventsCopySql(startSeq), (chunk) => first.push(chunk));
      return first.finish();
    }
    const mid = startSeq + Math.floor((last - startSeq + 1) / 2);
    const second = new ChainWalk(checkpoints, mid, verifySignature);
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id;
    await Promise.all([
      copyOut(client, eventsCopySql(startSeq, mid), (chunk) => first.push(chunk)),
      this.inSnapshot(snapshot, (other) => copyOut(other, eventsCopySql(mid), (chunk) => second.push(chunk))),
    ]);
    return first.followedBy(second);
  }

  /** Runs `work` in a read-only repeatable-read transaction: a new snapshot, or an exported one. */
  private async inSnapshot<T>(snapshot: string | null, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        if (snapshot !== null) {
          if (!/^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i.test(snapshot)) throw new Error('unexpected snapshot id');
          await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        }
        return await work(client);
      } finally {
        await client.query('COMMIT');
      }
    } finally {
      await runner.release();
    }
  }

  private signatureValid(c: CheckpointRow): boolean {
    const payload = Buffer.from(canonicalJson(checkpointPayload(c)), 'utf8');
    // Each checkpoint names its key: one signed before a key rotation verifies with the retired key.
    return this.signer.verifyAs(c.keyId, payload, Buffer.from(c.signature, 'base64'));
  }
}

/**
 * The chain checks over the events from `startSeq` on, fed one COPY message at a time. The
 * first failure found is final: rows after it are ignored, and `outcome` holds it.
 */
class ChainWalk {
  outcome: Outcome | null = null;
  private expected: number;
  // From the genesis link the previous hash is known; from a checkpoint (or the middle of the
  // chain) the first row's own prev_hash is taken as given: a checkpoint vouches for that
  // row's hash, and a second half is joined to the first by followedBy.
  private linked: boolean;
  /** The last verified link's SHA-256, 32 bytes as a latin1 ('binary') string. */
  private prev = GENESIS_DIGEST;
  private checked = 0;
  private cp: number;
  private readonly cpSeqs: number[];
  private headerSeen = false;
  private ended = false;
  /** The first row's seq (NaN if unreadable) and prev_hash, for joining halves. */
  private firstSeq: number | null = null;
  private firstPrevHash: string | null = null;
  private readonly offsets = new Int32Array(FIELDS);
  private readonly lengths = new Int32Array(FIELDS);

  constructor(
    private readonly checkpoints: CheckpointRow[],
    private readonly startSeq: number,
    private readonly signatureValid: (c: CheckpointRow) => boolean,
  ) {
    this.expected = startSeq;
    this.linked = startSeq === 1;
    this.cpSeqs = checkpoints.map((c) => Number(c.seq));
    this.cp = this.cpSeqs.findIndex((seq) => seq >= startSeq);
    if (this.cp === -1) this.cp = this.cpSeqs.length;
    if (this.cp > 0 && startSeq === 1) {
      this.fail(this.cpSeqs[0], `checkpoint ${checkpoints[0].seq} is outside the chain`);
    }
  }

  push(chunk: Buffer): void {
    if (this.outcome !== null) return;
    let at = 0;
    if (!this.headerSeen) at = this.readHeader(chunk);
    while (at < chunk.length && this.outcome === null) at = this.row(chunk, at);
  }

  finish(): Outcome {
    if (this.outcome !== null) return this.outcome;
    if (!this.ended) throw new Error('the audit event stream ended early');
    const c = this.checkpoints[this.cp];
    if (c) {
      if (!this.signatureValid(c)) return this.fail(this.cpSeqs[this.cp], `checkpoint ${c.seq} has an invalid signature (forged or altered)`);
      // A signed checkpoint vouches that event c.seq existed: events are missing from here on.
      return this.fail(this.expected, `the chain ends at event ${this.expected - 1} but signed checkpoint ${c.seq} covers it: events were removed from the tail`);
    }
    return { valid: true, checked: this.checked, firstInvalidSeq: null, reason: null, head: this.head() };
  }

  /**
   * The outcome of this walk (over the events before `next.startSeq`) followed by `next`, exactly
   * as one walk over both would have found it: the first failure in chain order wins, and the
   * seam is checked like any other link.
   */
  followedBy(next: ChainWalk): Outcome {
    if (this.outcome !== null) return this.outcome;
    if (!this.ended || !next.ended && next.outcome === null) throw new Error('the audit event stream ended early');
    if (next.firstSeq === null) return this.finish();
    if (next.firstSeq !== this.expected) {
      return this.fail(this.expected, `event ${this.expected} is missing (the next stored event is ${Number.isNaN(next.firstSeq) ? 'unreadable' : next.firstSeq})`);
    }
    if (this.linked && next.firstPrevHash !== hex(this.prev)) {
      return this.fail(next.firstSeq, `event ${next.firstSeq} does not link to event ${next.firstSeq - 1} (prev_hash differs)`);
    }
    const rest = next.finish();
    return { ...rest, checked: this.checked + rest.checked, head: rest.head ?? this.head() };
  }

  private readHeader(chunk: Buffer): number {
    if (chunk.length < 19 || !chunk.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error('unexpected COPY stream header');
    this.headerSeen = true;
    return 19 + chunk.readInt32BE(15);
  }

  /** Checks the row starting at `start`; returns where the next one starts. */
  private row(chunk: Buffer, start: number): number {
    const fields = chunk.readInt16BE(start);
    if (fields === -1) {
      this.ended = true;
      return chunk.length;
    }
    if (fields !== FIELDS) throw new Error(`unexpected COPY row of ${fields} fields`);
    const { offsets, lengths } = this;
    let at = start + 2;
    for (let i = 0; i < FIELDS; i++) {
      const length = (chunk[at] << 24) | (chunk[at + 1] << 16) | (chunk[at + 2] << 8) | chunk[at + 3];
      at += 4;
      offsets[i] = at;
      lengths[i] = length;
      if (length > 0) at += length;
    }
    if (at > chunk.length) throw new Error('COPY row runs past its message');

    const expected = this.expected;
    // seq is the primary key; if it cannot be read as the bigint it must be, this is not the event we expect.
    const seq = lengths[0] === 8 ? chunk.readInt32BE(offsets[0]) * 0x1_0000_0000 + chunk.readUInt32BE(offsets[0] + 4) : NaN;
    if (this.firstSeq === null) {
      this.firstSeq = seq;
      this.firstPrevHash = lengths[PREV_HASH] === 64 ? chunk.toString('latin1', offsets[PREV_HASH], offsets[PREV_HASH] + 64) : null;
    }
    if (seq !== expected) {
      return this.stop(expected, `event ${expected} is missing (the next stored event is ${Number.isNaN(seq) ? 'unreadable' : seq})`);
    }
    if (this.linked && (lengths[PREV_HASH] !== 64 || !isHexOf(chunk, offsets[PREV_HASH], this.prev))) {
      return this.stop(seq, `event ${seq} does not link to event ${seq - 1} (prev_hash differs)`);
    }
    // Every hashed field, length prefixes included: from the first field's length to the hash's.
    const hashed = new Uint8Array(chunk.buffer, chunk.byteOffset + start + 2, offsets[HASH] - 4 - start - 2);
    const digest = hash('sha256', hashed, 'binary');
    if (lengths[HASH] !== 64 || !isHexOf(chunk, offsets[HASH], digest)) {
      return this.stop(seq, `event ${seq} was altered (its hash does not match its content)`);
    }
    while (this.cp < this.cpSeqs.length && this.cpSeqs[this.cp] === seq) {
      const c = this.checkpoints[this.cp];
      if (!this.signatureValid(c)) return this.stop(seq, `checkpoint ${c.seq} has an invalid signature (forged or altered)`);
      if (c.hash !== hex(digest)) return this.stop(seq, `event ${c.seq} differs from signed checkpoint ${c.seq}: the chain was rewritten up to here`);
      this.cp++;
    }
    this.prev = digest;
    this.linked = true;
    this.checked++;
    this.expected++;
    return at;
  }

  private head(): ChainHead | null {
    return this.checked === 0 ? null : { seq: String(this.expected - 1), hash: hex(this.prev) };
  }

  private stop(seq: number, reason: string): number {
    this.fail(seq, reason);
    return Number.MAX_SAFE_INTEGER;
  }

  private fail(seq: number, reason: string): Outcome {
    this.outcome = { valid: false, checked: this.checked, firstInvalidSeq: seq, reason, head: this.head() };
    return this.outcome;
  }
}
