import { hash as digest } from 'node:crypto';
import { canonicalJson } from '@kura/common';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields a link's hash covers: everything but the hash itself. */
export interface HashedEvent {
  seq: string;
  at: Date;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

/**
 * The audit_events columns a link's hash covers, in the order they are encoded. The verifier
 * asks PostgreSQL for exactly these columns, then `hash`, in COPY's binary format.
 */
export const HASHED_COLUMNS = [
  'seq', 'at', 'actor_id', 'actor_name', 'action', 'target_type', 'target_id', 'outcome',
  'client_address', 'user_agent', 'request_id', 'details', 'prev_hash',
] as const;

// PostgreSQL's timestamp epoch, 2000-01-01T00:00:00Z, in Unix milliseconds.
const PG_EPOCH_MS = 946_684_800_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Field = Buffer | null;

function int64(value: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(value);
  return b;
}

const text = (v: string | null): Field => (v === null ? null : Buffer.from(v, 'utf8'));

function uuid(v: string | null): Field {
  if (v === null) return null;
  const lower = v.toLowerCase();
  if (!UUID.test(lower)) throw new Error('audit actor id is not a UUID');
  return Buffer.from(lower.replaceAll('-', ''), 'hex');
}

function timestamp(at: Date): Buffer {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new Error('audit event time is not a valid date');
  return int64(BigInt(ms - PG_EPOCH_MS) * 1000n);
}

/**
 * The bytes a link's hash covers: the HASHED_COLUMNS in order, each a 32-bit big-endian byte
 * length (-1 for null) followed by the value in PostgreSQL's binary send format: seq as a
 * 64-bit integer, at as 64-bit microseconds since 2000-01-01 UTC, actor_id as 16 bytes, text
 * and `details` (a json column holding the RFC 8785 canonical text) as UTF-8. That is, byte
 * for byte, the start of the row PostgreSQL sends for `COPY (SELECT HASHED_COLUMNS, hash)
 * TO STDOUT (FORMAT binary)` after its 16-bit field count, so the verifier hashes what the
 * database sends without decoding a single field. Length-prefixed fields make the encoding
 * unambiguous: no two different events encode alike.
 */
export function encodeEvent(e: HashedEvent): Buffer {
  return encodeStored(e, canonicalJson(e.details));
}

/** encodeEvent with `details` given as the canonical text already stored (the sequencer never re-serialises it). */
function encodeStored(e: Omit<HashedEvent, 'details'>, detailsText: string): Buffer {
  const fields: Field[] = [
    int64(BigInt(e.seq)),
    timestamp(e.at),
    uuid(e.actorId),
    text(e.actorName),
    text(e.action),
    text(e.targetType),
    text(e.targetId),
    text(e.outcome),
    text(e.clientAddress),
    text(e.userAgent),
    text(e.requestId),
    text(detailsText),
    text(e.prevHash),
  ];
  const parts: Buffer[] = [];
  for (const f of fields) {
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(f === null ? -1 : f.length);
    parts.push(length);
    if (f !== null) parts.push(f);
  }
  return Buffer.concat(parts);
}

/** SHA-256 (hex) over encodeEvent: the event and the previous link's hash. */
export function eventHash(e: HashedEvent): string {
  return digest('sha256', encodeEvent(e), 'hex');
}

/** eventHash of an event whose `details` is its stored canonical JSON text. */
export function storedEventHash(e: Omit<HashedEvent, 'details'>, detailsText: string): string {
  return digest('sha256', encodeStored(e, detailsText), 'hex');
}
