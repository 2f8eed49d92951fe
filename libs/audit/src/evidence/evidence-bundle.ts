import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { canonicalJson } from '@kura/common';
import { checkpointPayload } from '../audit-checkpoint.entity';
import { eventHash } from '../audit-hash';
import type { AuditEventView } from '../audit-query.types';

/**
 * The audit evidence bundle (GET /audit/evidence): one ustar archive an auditor can check
 * without Kura, its database or the network (docs/security.md). The entries, in this order:
 *
 * - `manifest.json`: RFC 8785 canonical JSON (EvidenceManifest), signed as a whole;
 * - `manifest.sig`: the raw 64-byte Ed25519 signature over manifest.json's bytes;
 * - `keys/<keyId>.pub.pem`: every public key needed (the manifest's, and each checkpoint's);
 * - `checkpoints.jsonl`: the signed checkpoints inside the range, one per line;
 * - `events.jsonl`: the events, one AuditEventView per line, in chain order.
 */
export const EVIDENCE_FORMAT = 'kura-audit-evidence/1';
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SIGNATURE_FILE = 'manifest.sig';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const EVENTS_FILE = 'events.jsonl';
export const keyFile = (keyId: string): string => `keys/${keyId}.pub.pem`;
const KEY_FILE = /^keys\/([0-9a-f]{16})\.pub\.pem$/;

export const COMPLETE_STATEMENT =
  'Complete range: every event from firstSeq to lastSeq is included and chained; a missing, reordered or altered event breaks the chain.';
export const FILTERED_STATEMENT =
  'Filtered export: proves the authenticity of each included event (its hash, and the manifest signed by the service), ' +
  'NOT completeness: events of the range that do not match the filter are left out, so their absence proves nothing.';

export interface EvidenceFile {
  path: string;
  size: number;
  sha256: string;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  generatedAt: string;
  generatedBy: { id: string; username: string };
  /** The key whose signature is manifest.sig (keys/<keyId>.pub.pem). */
  keyId: string;
  algorithm: 'Ed25519';
  /** What the auditor asked for (ISO 8601 times as given, sequence numbers). */
  requested: { from: string | null; to: string | null; fromSeq: number | null; toSeq: number | null };
  /** The events of the requested time range: a contiguous sequence range; null when there were none. */
  range: { firstSeq: number; lastSeq: number; firstPrevHash: string; lastHash: string } | null;
  /** The filter applied inside the range (actor, action, targetId, outcome), or null. */
  filter: Record<string, string> | null;
  complete: boolean;
  statement: string;
  counts: { events: number; checkpoints: number; keys: number };
  /** Every other entry of the archive with its size and SHA-256 (hex). */
  files: EvidenceFile[];
}

/** A signed checkpoint as the bundle carries it; the signature covers canonicalJson({at, hash, seq}). */
export interface EvidenceCheckpoint {
  seq: string;
  hash: string;
  at: string;
  keyId: string;
  algorithm: 'Ed25519';
  signature: string;
}

/** The manifest's bytes as signed: RFC 8785 canonical JSON. */
export const canonicalManifest = (m: EvidenceManifest): string => canonicalJson(m);

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** The event's hash recomputed from the fields a JSON line carries (the same encoding the chain uses). */
export function recomputeEventHash(e: AuditEventView): string {
  return eventHash({
    seq: String(e.seq),
    at: new Date(e.at),
    actorId: e.actorId,
    actorName: e.actorName,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    clientAddress: e.clientAddress,
    userAgent: e.userAgent,
    requestId: e.requestId,
    details: e.details,
    prevHash: e.prevHash,
  });
}

export interface BundleVerdict {
  valid: boolean;
  /** Every problem found, in the order found; empty when valid. */
  problems: string[];
  manifest: EvidenceManifest | null;
  /** Events whose hash was recomputed and found good. */
  eventsChecked: number;
  checkpointsChecked: number;
  /** Whether the manifest key came from the caller (true) or only from the bundle itself. */
  keyTrusted: boolean;
}

function keyIdOf(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

function verifyEd25519(key: KeyObject | undefined, data: Buffer, signature: Buffer): boolean {
  if (!key || signature.length !== 64) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** Splits a stream of bytes into lines (LF), without holding more than one line at a time. */
async function* lines(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest = Buffer.alloc(0);
  for await (const chunk of chunks) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let at = buf.indexOf(0x0a);
    while (at !== -1) {
      yield buf.toString('utf8', 0, at);
      buf = buf.subarray(at + 1);
      at = buf.indexOf(0x0a);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) yield rest.toString('utf8');
}

/**
 * Walks the events in order: recomputes each hash, checks the links between consecutive
 * sequence numbers, and remembers the hashes at checkpoint sequences.
 */
class EventWalk {
  count = 0;
  checked = 0;
  first: AuditEventView | null = null;
  last: AuditEventView | null = null;
  /** Recomputed hash by seq, for the sequences a checkpoint names (or every seq when those are not known yet). */
  readonly hashAt = new Map<string, string>();
  private unterminated = false;

  constructor(
    private readonly problems: string[],
    private readonly checkpointSeqs: Set<string> | null,
    private readonly complete: boolean,
  ) {}

  line(text: string): void {
    if (this.unterminated) this.problem('events.jsonl has text after its last line');
    if (text === '') {
      this.unterminated = true;
      return;
    }
    let e: AuditEventView;
    try {
      e = JSON.parse(text) as AuditEventView;
    } catch {
      this.problem(`events.jsonl line ${this.count + 1} is not JSON`);
      this.count++;
      return;
    }
    this.count++;
    if (!Number.isSafeInteger(e.seq) || typeof e.hash !== 'string' || typeof e.prevHash !== 'string') {
      this.problem(`events.jsonl line ${this.count} is not an audit event`);
      return;
    }
    let computed: string;
    try {
      computed = recomputeEventHash(e);
    } catch {
      this.problem(`event ${e.seq} cannot be encoded (malformed field)`);
      return;
    }
    if (computed !== e.hash) this.problem(`event ${e.seq} was altered (its hash does not match its content)`);
    else this.checked++;
    const prev = this.last;
    if (prev) {
      if (this.complete && e.seq !== prev.seq + 1) {
        this.problem(e.seq > prev.seq + 1 ? `event ${prev.seq + 1} is missing (the next event is ${e.seq})` : `event ${e.seq} is out of order (after ${prev.seq})`);
      } else if (!this.complete && e.seq <= prev.seq) {
        this.problem(`event ${e.seq} is out of order (after ${prev.seq})`);
      }
      // Consecutive events must link, filtered or not: the chain is one.
      if (e.seq === prev.seq + 1 && e.prevHash !== prev.hash) this.problem(`event ${e.seq} does not link to event ${prev.seq} (prevHash differs)`);
    } else {
      this.first = e;
    }
    this.last = e;
    if (this.checkpointSeqs === null || this.checkpointSeqs.has(String(e.seq))) this.hashAt.set(String(e.seq), computed);
  }

  private problem(p: string): void {
    this.problems.push(p);
  }
}

interface BundleParts {
  manifestBytes?: Buffer;
  signature?: Buffer;
  keys: Map<string, KeyObject>;
  checkpoints?: EvidenceCheckpoint[];
  eventsBytes?: Buffer;
  digests: Map<string, { size: number; sha256: string }>;
}

/**
 * Verifies an evidence bundle offline: no database, no network, nothing of the service but
 * this code (and docs/security.md shows how to do the same with openssl, sha256sum and a
 * short script). `trustedKeys` are the public keys (PEM) the auditor obtained out of band
 * (GET /keys/public, their records): the manifest must be signed by one of them. Without
 * them, the bundle's own keys are used and the verdict says so.
 */
export async function verifyEvidenceBundle(tar: Readable, trustedKeys: string[] = []): Promise<BundleVerdict> {
  const problems: string[] = [];
  const trusted = new Map<string, KeyObject>();
  for (const pem of trustedKeys) {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('a trusted key is not an Ed25519 public key');
    trusted.set(keyIdOf(key), key);
  }
  const parts: BundleParts = { keys: new Map(), digests: new Map() };
  let walk: EventWalk | null = null;
  let manifest: EvidenceManifest | null = null;
  const seen = new Set<string>();

  const ex = extract();
  tar.on('error', (err) => ex.destroy(err));
  tar.pipe(ex);
  for await (const entry of ex) {
    const name = entry.header.name;
    if (entry.header.type !== 'file' || seen.has(name)) {
      problems.push(`unexpected archive entry ${JSON.stringify(name)}${seen.has(name) ? ' (duplicate)' : ''}`);
      entry.resume();
      continue;
    }
    seen.add(name);
    const hash = createHash('sha256');
    let size = 0;
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    if (name === EVENTS_FILE && manifest && parts.checkpoints) {
      // Streamed: a bundle of millions of events never sits in memory.
      walk = new EventWalk(problems, new Set(parts.checkpoints.map((c) => c.seq)), manifest.complete);
      for await (const line of lines(counted())) walk.line(line);
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of counted()) chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      if (name === MANIFEST_FILE) {
        parts.manifestBytes = bytes;
        manifest = parseManifest(bytes, problems);
      } else if (name === MANIFEST_SIGNATURE_FILE) parts.signature = bytes;
      else if (name === CHECKPOINTS_FILE) parts.checkpoints = parseCheckpoints(bytes, problems);
      else if (name === EVENTS_FILE) parts.eventsBytes = bytes;
      else {
        const m = KEY_FILE.exec(name);
        if (!m) problems.push(`unexpected archive entry ${JSON.stringify(name)}`);
        else {
          try {
            const key = createPublicKey(bytes.toString('utf8'));
            // A key file can only vouch for the key it names: its id is derived from the key itself.
            if (key.asymmetricKeyType !== 'ed25519' || keyIdOf(key) !== m[1]) problems.push(`${name} does not hold the Ed25519 key ${m[1]}`);
            else parts.keys.set(m[1], key);
          } catch {
            problems.push(`${name} is not a public key`);
          }
        }
      }
    }
    parts.digests.set(name, { size, sha256: hash.digest('hex') });
  }

  if (!parts.manifestBytes || !manifest) {
    if (!parts.manifestBytes) problems.push('the bundle has no manifest.json');
    return { valid: false, problems, manifest: null, eventsChecked: 0, checkpointsChecked: 0, keyTrusted: false };
  }

  // 1. The manifest's signature, by a trusted key when the caller gave any.
  const keyTrusted = trusted.size > 0;
  if (keyTrusted && !trusted.has(manifest.keyId)) {
    problems.push(`the manifest is signed by key ${manifest.keyId}, which is not one of the trusted keys (${[...trusted.keys()].join(', ')})`);
  }
  const manifestKey = trusted.get(manifest.keyId) ?? (keyTrusted ? undefined : parts.keys.get(manifest.keyId));
  if (!parts.signature) problems.push('the bundle has no manifest.sig');
  else if (!verifyEd25519(manifestKey, parts.manifestBytes, parts.signature)) {
    problems.push(`the manifest signature does not verify with key ${manifest.keyId} (forged or altered manifest)`);
  }

  // 2. Every file as the manifest lists it, and nothing else.
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const got = parts.digests.get(f.path);
    if (!got) problems.push(`${f.path} is listed in the manifest but missing`);
    else if (got.sha256 !== f.sha256 || got.size !== f.size) problems.push(`${f.path} differs from the manifest (SHA-256 or size)`);
  }
  for (const name of parts.digests.keys()) {
    if (name !== MANIFEST_FILE && name !== MANIFEST_SIGNATURE_FILE && !listed.has(name)) problems.push(`${name} is not listed in the manifest`);
  }

  // 3. The checkpoints' signatures.
  const checkpoints = parts.checkpoints ?? [];
  if (!parts.checkpoints) problems.push('the bundle has no checkpoints.jsonl');
  let checkpointsChecked = 0;
  for (const c of checkpoints) {
    const payload = Buffer.from(canonicalJson(checkpointPayload(c)), 'utf8');
    if (!verifyEd25519(parts.keys.get(c.keyId), payload, Buffer.from(c.signature, 'base64'))) {
      problems.push(`checkpoint ${c.seq} has an invalid signature (forged, altered, or key ${c.keyId} missing)`);
    } else checkpointsChecked++;
  }

  // 4. The events: hashes, chain, contiguity, and agreement with the checkpoints and the manifest.
  if (!walk) {
    walk = new EventWalk(problems, null, manifest.complete);
    if (parts.eventsBytes) for await (const line of lines([parts.eventsBytes])) walk.line(line);
    else problems.push('the bundle has no events.jsonl');
  }
  const range = manifest.range;
  if (walk.count !== manifest.counts.events) problems.push(`the manifest counts ${manifest.counts.events} events, the bundle holds ${walk.count}`);
  if (checkpoints.length !== manifest.counts.checkpoints) problems.push(`the manifest counts ${manifest.counts.checkpoints} checkpoints, the bundle holds ${checkpoints.length}`);
  if (range === null) {
    if (walk.count > 0) problems.push('the manifest declares an empty range but the bundle holds events');
  } else {
    if (manifest.complete) {
      if (walk.first && (walk.first.seq !== range.firstSeq || walk.first.prevHash !== range.firstPrevHash)) {
        problems.push(`the first event is ${walk.first.seq}, not the range's first event ${range.firstSeq} as signed`);
      }
      if (walk.last && (walk.last.seq !== range.lastSeq || walk.last.hash !== range.lastHash)) {
        problems.push(`the last event is ${walk.last.seq}, not the range's last event ${range.lastSeq} as signed`);
      }
      if (walk.count !== range.lastSeq - range.firstSeq + 1) problems.push(`the range ${range.firstSeq}–${range.lastSeq} is not complete`);
    } else if (walk.first && walk.last && (walk.first.seq < range.firstSeq || walk.last.seq > range.lastSeq)) {
      problems.push('an event lies outside the signed range');
    }
    for (const c of checkpoints) {
      const seq = Number(c.seq);
      if (seq < range.firstSeq || seq > range.lastSeq) problems.push(`checkpoint ${c.seq} lies outside the range`);
      const computed = walk.hashAt.get(c.seq);
      if (computed === undefined) {
        if (manifest.complete) problems.push(`checkpoint ${c.seq} names an event the bundle does not hold`);
      } else if (computed !== c.hash) {
        problems.push(`event ${c.seq} differs from signed checkpoint ${c.seq}: the chain was rewritten`);
      }
    }
  }
  return { valid: problems.length === 0, problems, manifest, eventsChecked: walk.checked, checkpointsChecked, keyTrusted };
}

function parseManifest(bytes: Buffer, problems: string[]): EvidenceManifest | null {
  try {
    const m = JSON.parse(bytes.toString('utf8')) as EvidenceManifest;
    if (m.format !== EVIDENCE_FORMAT || typeof m.keyId !== 'string' || !Array.isArray(m.files) || typeof m.counts !== 'object' || m.counts === null) {
      problems.push(`manifest.json is not a ${EVIDENCE_FORMAT} manifest`);
      return null;
    }
    return m;
  } catch {
    problems.push('manifest.json is not JSON');
    return null;
  }
}

function parseCheckpoints(bytes: Buffer, problems: string[]): EvidenceCheckpoint[] {
  const out: EvidenceCheckpoint[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      const c = JSON.parse(line) as EvidenceCheckpoint;
      if (typeof c.seq !== 'string' || typeof c.hash !== 'string' || typeof c.at !== 'string' || typeof c.keyId !== 'string' || typeof c.signature !== 'string') throw new Error();
      out.push(c);
    } catch {
      problems.push('checkpoints.jsonl holds a line that is not a checkpoint');
    }
  }
  return out;
}
