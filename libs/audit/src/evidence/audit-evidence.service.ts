import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { pack as tarPack, Pack } from 'tar-stream';
import { type Actor, Clock, DomainError, ErrorCode } from '@kura/common';
import { Signer } from '@kura/signing';
import { AuditCheckpointRepository } from '../audit-checkpoint.repository';
import type { AuditEventFilter } from '../audit-query.types';
import { AuditVerifier } from '../audit-verifier';
import { AuditRepository } from '../audit.repository';
import { AuditService } from '../audit.service';
import { auditEventFilter, auditFilterDetails } from '../dto/audit-events.filter';
import type { AuditEvidenceQuery } from '../dto/audit-evidence.query';
import { AUDIT_EXPORT_BATCH_SIZE } from '../export/audit-export.service';
import { jsonLine } from '../export/audit-export-lines';
import {
  canonicalManifest,
  CHECKPOINTS_FILE,
  COMPLETE_STATEMENT,
  EVENTS_FILE,
  EvidenceCheckpoint,
  EvidenceFile,
  EvidenceManifest,
  EVIDENCE_FORMAT,
  FILTERED_STATEMENT,
  keyFile,
  MANIFEST_FILE,
  MANIFEST_SIGNATURE_FILE,
  sha256Hex,
} from './evidence-bundle';

export interface AuditEvidence {
  format: 'tar';
  contentType: string;
  filename: string;
  count: number;
  body: Readable;
}

const fileStamp = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

type Range = { firstSeq: string; lastSeq: string; firstPrevHash: string; lastHash: string };

/**
 * Evidence that stands without Kura (A.8.15): a contiguous range of the chain, the checkpoints
 * inside it, the public keys, and a manifest signed by the service (evidence-bundle.ts).
 * The chain is verified before anything is signed, so a manifest never blesses a chain
 * rewritten in the database; the export is audited before its first byte.
 */
@Injectable()
export class AuditEvidenceService {
  /** Rows per keyset batch while streaming. */
  batchSize = AUDIT_EXPORT_BATCH_SIZE;

  constructor(
    private readonly events: AuditRepository,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly verifier: AuditVerifier,
    private readonly audit: AuditService,
    private readonly signer: Signer,
    private readonly clock: Clock,
  ) {}

  async export(actor: Actor, q: AuditEvidenceQuery): Promise<AuditEvidence> {
    const { fromSeq, toSeq, ...filters } = q;
    if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) {
      throw DomainError.validation('fromSeq must not be after toSeq.', [{ field: 'fromSeq', messages: ['fromSeq must not be after toSeq'] }]);
    }
    const { from, to, ...rest } = auditEventFilter(filters);
    const filter: AuditEventFilter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const given = auditFilterDetails(filters);
    const filterDetails = Object.fromEntries(Object.entries(given).filter(([k]) => k !== 'from' && k !== 'to'));
    const complete = Object.keys(filter).length === 0;
    const requested = { from: q.from ?? null, to: q.to ?? null, fromSeq: fromSeq ?? null, toSeq: toSeq ?? null };
    const generatedAt = this.clock.now();

    const check = await this.verifier.verify();
    if (!check.valid) {
      await this.audit.record({ actor, action: 'audit.evidence.export', targetType: 'AuditEvent', outcome: 'failed', details: { requested, filter: filterDetails, reason: 'chain-invalid', firstInvalidSeq: check.firstInvalidSeq } });
      throw new DomainError(ErrorCode.IntegrityFailed, 'The audit chain failed verification; no evidence was signed. Run GET /audit/verify for the first invalid event.', {
        firstInvalidSeq: check.firstInvalidSeq,
      });
    }
    // Only what was just verified (events appended since are outside the bundle).
    const range = check.checked > 0 ? await this.events.seqRange({ from, to, fromSeq, toSeq }, String(check.checked)) : null;
    const eventsFile = range ? await this.digest(filter, range) : { count: 0, size: 0, sha256: sha256Hex('') };
    const checkpoints: EvidenceCheckpoint[] = (range ? await this.checkpoints.inRange(range.firstSeq, range.lastSeq) : []).map((c) => ({
      seq: c.seq,
      hash: c.hash,
      at: c.createdAt.toISOString(),
      keyId: c.keyId,
      algorithm: 'Ed25519',
      signature: c.signature,
    }));
    const checkpointsText = Buffer.from(checkpoints.map((c) => `${JSON.stringify(c)}\n`).join(''), 'utf8');
    const keys = [...new Set([this.signer.keyId, ...checkpoints.map((c) => c.keyId)])].sort().map((id) => {
      const pem = this.signer.publicKeyPemOf(id);
      // The chain verified, so every checkpoint's key is known; this guards the impossible.
      if (pem === null) throw new DomainError(ErrorCode.IntegrityFailed, `The public key ${id} of a checkpoint is not available.`);
      return { path: keyFile(id), bytes: Buffer.from(pem, 'utf8') };
    });
    const files: EvidenceFile[] = [
      ...keys.map((k) => ({ path: k.path, size: k.bytes.length, sha256: sha256Hex(k.bytes) })),
      { path: CHECKPOINTS_FILE, size: checkpointsText.length, sha256: sha256Hex(checkpointsText) },
      { path: EVENTS_FILE, size: eventsFile.size, sha256: eventsFile.sha256 },
    ];
    const manifest: EvidenceManifest = {
      format: EVIDENCE_FORMAT,
      generatedAt: generatedAt.toISOString(),
      generatedBy: { id: actor.id, username: actor.username },
      keyId: this.signer.keyId,
      algorithm: 'Ed25519',
      requested,
      range: range && { firstSeq: Number(range.firstSeq), lastSeq: Number(range.lastSeq), firstPrevHash: range.firstPrevHash, lastHash: range.lastHash },
      filter: complete ? null : filterDetails,
      complete,
      statement: complete ? COMPLETE_STATEMENT : FILTERED_STATEMENT,
      counts: { events: eventsFile.count, checkpoints: checkpoints.length, keys: keys.length },
      files,
    };
    const manifestBytes = Buffer.from(canonicalManifest(manifest), 'utf8');
    const signature = this.signer.sign(manifestBytes);

    // On the record before the first byte is sent (A.8.15: the watchers are watched).
    await this.audit.record({
      actor,
      action: 'audit.evidence.export',
      targetType: 'AuditEvent',
      outcome: 'allowed',
      details: { requested, filter: filterDetails, complete, range: manifest.range && { firstSeq: manifest.range.firstSeq, lastSeq: manifest.range.lastSeq }, counts: manifest.counts, manifestSha256: sha256Hex(manifestBytes) },
    });

    const tar = tarPack();
    const mtime = generatedAt;
    void (async () => {
      await this.entry(tar, MANIFEST_FILE, manifestBytes, mtime);
      await this.entry(tar, MANIFEST_SIGNATURE_FILE, signature, mtime);
      for (const k of keys) await this.entry(tar, k.path, k.bytes, mtime);
      await this.entry(tar, CHECKPOINTS_FILE, checkpointsText, mtime);
      await this.streamEntry(tar, eventsFile, range ? this.lines(filter, range) : [], mtime);
      tar.finalize();
    })().catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
    return { format: 'tar', contentType: 'application/x-tar', filename: `audit-evidence-${fileStamp(generatedAt)}.tar`, count: eventsFile.count, body: Readable.from(tar, { objectMode: false }) };
  }

  /** The first pass: the events file's size and SHA-256, which the manifest must hold before the archive starts. */
  private async digest(filter: AuditEventFilter, range: Range): Promise<{ count: number; size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    let count = 0;
    for await (const line of this.lines(filter, range)) {
      const bytes = Buffer.from(line, 'utf8');
      hash.update(bytes);
      size += bytes.length;
      count++;
    }
    return { count, size, sha256: hash.digest('hex') };
  }

  /** The events of the range (matching the filter), one JSON line each, in chain order, by keyset batches. */
  private async *lines(filter: AuditEventFilter, range: Range): AsyncGenerator<string> {
    let after = String(BigInt(range.firstSeq) - 1n);
    for (;;) {
      const batch = await this.events.exportBatch(filter, after, range.lastSeq, this.batchSize);
      for (const e of batch) yield jsonLine(e);
      if (batch.length < this.batchSize) return;
      after = String(batch[batch.length - 1].seq);
    }
  }

  private entry(tar: Pack, name: string, bytes: Buffer, mtime: Date): Promise<void> {
    return new Promise((resolve, reject) => {
      tar.entry({ name, size: bytes.length, mtime, mode: 0o644 }, bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The second pass, streamed; the events are immutable, so it must send exactly what the first pass hashed. */
  private async streamEntry(tar: Pack, expected: { size: number; sha256: string }, lines: Iterable<string> | AsyncIterable<string>, mtime: Date): Promise<void> {
    const hash = createHash('sha256');
    let done!: (err?: Error | null) => void;
    const finished = new Promise<void>((resolve, reject) => {
      done = (err) => (err ? reject(err) : resolve());
    });
    const entry = tar.entry({ name: EVENTS_FILE, size: expected.size, mtime, mode: 0o644 }, (err) => done(err));
    for await (const line of lines) {
      const bytes = Buffer.from(line, 'utf8');
      hash.update(bytes);
      if (!entry.write(bytes)) await once(entry, 'drain');
    }
    if (hash.digest('hex') !== expected.sha256) throw new Error('the events changed between the two passes of an evidence export');
    // (tar-stream's entries are streamx writables; its typings offer no zero-argument end())
    entry.end(undefined);
    await finished;
  }
}
