import { randomBytes, randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '@kura/audit';
import { Clock, describeError } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { TransactionRunner } from '@kura/database';
import { DocumentLifecycle, VersionRecord } from '@kura/documents';
import { ObjectStore } from '@kura/storage';
import { buildCertificate, DestroyedRecordFacts } from '../certificate/certificate.builder';
import { certificateBytes, signCertificate } from '../certificate/certificate-signing';
import { CertificateSigner, SPECIFIC_TITLE_PLACEHOLDER } from '../certificate/certificate.model';
import { describePeriod } from '../retention-period';
import { RetentionRepository } from '../retention.repository';
import { kuraTool } from '../tool-version';
import { DispositionHooks } from './disposition.hooks';
import { DispositionRepository, ItemRow } from './disposition.repository';
import { reasonFor } from './disposition-views';

export const CERTIFICATE_SIGNER = Symbol('CERTIFICATE_SIGNER');

function certifiedVersion(v: VersionRecord): ErasedResult['versions'][number] {
  return { number: v.number, sha256: v.sha256, size: Number(v.size), createdAt: new Date(v.createdAt).toISOString(), objectKey: v.storageKey, dataKeyErased: !v.hasKey };
}

type Who = { id: string; username: string } | null;

/** What an item records when its data keys are erased; completed after the objects are verified gone. */
interface ErasedResult {
  holdCheckedAt: string;
  erasedAt: string;
  keysErased: number;
  record: Omit<DestroyedRecordFacts, 'destroyedAt' | 'versions' | 'createdAt' | 'triggerDate' | 'dispositionDate'> & {
    createdAt: string;
    triggerDate: string | null;
    dispositionDate: string | null;
  };
  versions: Array<{ number: number; sha256: string; size: number; createdAt: string; objectKey: string; dataKeyErased: boolean }>;
}

interface DestroyedResult extends ErasedResult {
  destroyedAt: string;
  verification: Array<{ objectKey: string; objectDeleted: boolean; absent: boolean; verifiedAt: string }>;
  prefix?: { prefix: string; otherObjectsDeleted: number; empty: boolean; verifiedAt: string };
}

/**
 * Executes an approved batch, one document at a time, resumable and idempotent:
 * pending --(row locks; hold and due re-checked; data keys erased)--> erased
 *         --(objects deleted; each verified absent)--> destroyed.
 * Every step commits under the item's row lock, so a crash resumes where it stopped
 * and concurrent executors destroy each document once and issue one certificate.
 */
@Injectable()
export class DispositionExecutor {
  private readonly logger = new Logger(DispositionExecutor.name);
  /** Names this process in the batch leases it holds. */
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(
    private readonly repo: DispositionRepository,
    private readonly tx: TransactionRunner,
    private readonly retention: RetentionRepository,
    private readonly lifecycle: DocumentLifecycle,
    private readonly store: ObjectStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
    @Inject(CERTIFICATE_SIGNER) private readonly signer: CertificateSigner,
    private readonly hooks: DispositionHooks,
  ) {}

  /** Runs (or resumes) a batch to completion; returns false when a step must be retried later or `go()` said stop. */
  async execute(batchId: string, executor?: Who, go: () => boolean = () => true): Promise<boolean> {
    const batch = await this.repo.findBatch(this.tx.outside, batchId);
    if (!batch) return false;
    // The approver's decision is carried out on their behalf: the audit events name them.
    const who = executor !== undefined ? executor : batch.approvedBy ? { id: batch.approvedBy, username: batch.approvedByName! } : null;
    const items = await this.repo.items(this.tx.outside, batchId);
    let complete = true;
    let destroyed = 0;
    for (const item of items) {
      if (item.state !== 'pending' && item.state !== 'erased') continue;
      if (!go()) return false;
      await this.hooks.beforeItem(batchId, item.documentId, destroyed);
      try {
        if (await this.runItem(batchId, item.documentId, who)) destroyed++;
      } catch (err) {
        complete = false;
        this.logger.error({ msg: 'disposition step failed; it will be retried', batchId, documentId: item.documentId, error: err instanceof Error ? err.message : String(err) });
        await this.audit
          .record({ actor: who, actorName: 'system', action: 'document.destroy', targetType: 'Document', targetId: item.documentId, outcome: 'failed', details: { batchId } })
          .catch(() => undefined);
      }
    }
    if (!complete || !go()) return false;
    // Erased key rows survive as dead tuples until vacuumed; the certificate claims the vacuum only when it ran.
    const vacuumed = await this.lifecycle.vacuumErasedKeys().catch((err: unknown) => {
      this.logger.warn({ msg: 'vacuuming the erased data keys failed; autovacuum will reclaim them later', error: err instanceof Error ? err.message : String(err) });
      return false;
    });
    if (!vacuumed) this.logger.warn({ msg: 'document_versions was not vacuumed (the runtime role needs MAINTAIN on it); the certificate does not claim it' });
    return this.finish(batchId, who, vacuumed);
  }

  /**
   * Takes the lease of the oldest approved batch no live worker holds and executes it, renewing
   * the lease every third of its length; null when no batch waits. One worker at a time runs a
   * batch; a crashed worker's batch is taken over once its lease expires (steps are idempotent).
   * `stop()`: the worker is shutting down; the lease is handed back at the next record.
   */
  async executeNext(stop: () => boolean = () => false): Promise<string | null> {
    const leaseSeconds = this.config.dispositionLeaseSeconds;
    const id = await this.repo.claimNext(this.owner, leaseSeconds);
    if (!id) return null;
    this.logger.log({ msg: 'executing disposition batch', batchId: id });
    let held = true;
    const renew = setInterval(() => {
      this.repo.renewLease(id, this.owner, leaseSeconds).then(
        (ok) => (held &&= ok),
        (err: unknown) => this.logger.warn({ msg: 'renewing the disposition lease failed; trying again', batchId: id, error: describeError(err) }),
      );
    }, (leaseSeconds * 1000) / 3);
    let finished = false;
    try {
      finished = await this.execute(id, undefined, () => held && !stop());
    } finally {
      clearInterval(renew);
      // Finished: completing cleared the lease. Stopped: handed back now. A failed step: retried after a lease period.
      if (!finished) await this.repo.releaseLease(id, this.owner, held && !stop() ? leaseSeconds : 0).catch(() => undefined);
    }
    if (finished) this.logger.log({ msg: 'disposition batch executed', batchId: id });
    return id;
  }

  /** Every approved batch no live worker holds, one after the other (the `disposition.resume` job, `jobs run`). */
  async resumeAll(stop: () => boolean = () => false): Promise<void> {
    while (!stop() && (await this.executeNext(stop))) {
      // next batch
    }
  }

  /** True when this call recorded the document destroyed. */
  private async runItem(batchId: string, documentId: string, executor: Who): Promise<boolean> {
    const erased = await this.erase(batchId, documentId, executor);
    if (!erased) return false;
    // A.8.10: objects are deleted and verified gone before the deletion is recorded. The
    // versions are read again: after the erase no version can be added (state machine + trigger).
    const versions = await this.lifecycle.versionsOf(this.tx.outside, [documentId]);
    const verification: DestroyedResult['verification'] = [];
    for (const v of versions) {
      await this.store.delete(v.storageKey);
      const absent = (await this.store.stat(v.storageKey)) === null;
      verification.push({ objectKey: v.storageKey, objectDeleted: true, absent, verifiedAt: this.clock.now().toISOString() });
      if (!absent) throw new Error(`object ${v.storageKey} is still present after deletion`);
    }
    const prefix = await this.sweepPrefix(documentId, versions.map((v) => v.storageKey));
    return this.tx.run(async (m) => {
      const item = await this.repo.lockItem(m, batchId, documentId);
      if (!item || item.state !== 'erased') return false; // another executor recorded it first
      const batch = (await this.repo.findBatch(m, batchId))!;
      const now = this.clock.now();
      const erasedResult = item.result as unknown as ErasedResult;
      // Refuses while any key or object remains; answers exactly what was destroyed, for the certificate.
      const destroyed = await this.lifecycle.markDestroyed(m, documentId, now, erasedResult.record.personalData === 'specific' ? SPECIFIC_TITLE_PLACEHOLDER : undefined);
      const result: DestroyedResult = { ...erasedResult, versions: destroyed.map(certifiedVersion), destroyedAt: now.toISOString(), verification, prefix };
      await this.repo.updateItem(m, batchId, documentId, 'destroyed', result, now);
      await this.audit.append(m, {
        actor: executor,
        actorName: 'system',
        action: 'document.destroy',
        targetType: 'Document',
        targetId: documentId,
        outcome: 'allowed',
        details: {
          batchId,
          series: result.record.series?.code ?? null,
          authorizer: batch.approvedByName,
          authorizerId: batch.approvedBy,
          proposer: batch.proposedByName,
          versions: result.versions.length,
          method: 'crypto-erase + object delete',
        },
      });
      return true;
    });
  }

  /**
   * Objects under the document's prefix that no version names (an upload that never
   * committed) hold ciphertext of the record too: deleted, and the prefix listed empty.
   */
  private async sweepPrefix(documentId: string, versionKeys: string[]): Promise<NonNullable<DestroyedResult['prefix']>> {
    const prefix = `documents/${documentId}/`;
    const known = new Set(versionKeys);
    let otherObjectsDeleted = 0;
    for await (const o of this.store.list(prefix)) {
      if (known.has(o.key)) continue;
      await this.store.delete(o.key);
      otherObjectsDeleted++;
    }
    for await (const o of this.store.list(prefix)) throw new Error(`object ${o.key} is still present under ${prefix} after deletion`);
    return { prefix, otherObjectsDeleted, empty: true, verifiedAt: this.clock.now().toISOString() };
  }

  /** Step 1 under row locks: re-check, then crypto-erase. Returns what to delete, or null when nothing is left to do. */
  private async erase(batchId: string, documentId: string, executor: Who): Promise<ErasedResult | null> {
    return this.tx.run(async (m) => {
      const item = await this.repo.lockItem(m, batchId, documentId);
      if (!item) return null;
      if (item.state === 'erased') return item.result as unknown as ErasedResult;
      if (item.state !== 'pending') return null;
      const [f] = await this.retention.facts(m, [documentId], true);
      const now = this.clock.now();
      const skip = async (reason: string, outcome: 'denied' | 'allowed') => {
        await this.repo.updateItem(m, batchId, documentId, 'skipped', { reason, checkedAt: now.toISOString() }, now);
        await this.audit.append(m, { actor: executor, actorName: 'system', action: 'disposition.skip', targetType: 'Document', targetId: documentId, outcome, details: { batchId, reason } });
        return null;
      };
      // Re-checked at the moment of destruction: a hold placed or a date moved after approval wins.
      if (!f) return skip('the document no longer exists', 'allowed');
      if (f.status === 'destroyed') return skip('already destroyed', 'allowed');
      if (f.activeHolds > 0) return skip('under legal hold at execution', 'denied');
      if (item.decision === 'extend') return this.extend(m, item, executor, now);
      if (!f.dispositionAt || f.dispositionAt > now || (f.extendedUntil && f.extendedUntil > now)) return skip('not due at execution', 'denied');
      if (f.disposition === 'review' && item.decision !== 'destroy') return skip('review decision missing', 'denied');

      // From here on the document takes no new version, key or metadata; then SPEC §3
      // crypto-erase: every wrapped data key of every version, in this transaction.
      await this.lifecycle.markPendingDisposition(m, documentId);
      const keysErased = await this.lifecycle.eraseKeys(m, documentId);
      const versions = await this.lifecycle.versionsOf(m, [documentId]);
      const result: ErasedResult = {
        holdCheckedAt: now.toISOString(),
        erasedAt: now.toISOString(),
        keysErased,
        record: {
          recordId: f.id,
          // A `specific` title is never copied out of the documents table.
          title: f.personalData === 'specific' ? SPECIFIC_TITLE_PLACEHOLDER : f.title,
          kind: f.kind,
          personalData: f.personalData,
          classification: f.classification,
          department: f.department,
          series: f.seriesCode
            ? { code: f.seriesCode, name: f.seriesName!, citation: f.citation!, trigger: f.trigger!, retention: describePeriod({ years: f.years ?? 0, months: f.months ?? 0, days: f.days ?? 0 }) }
            : null,
          triggerDate: f.triggerAt?.toISOString() ?? null,
          dispositionDate: f.dispositionAt?.toISOString() ?? null,
          dueReason: reasonFor(f),
          createdAt: f.createdAt.toISOString(),
        },
        versions: versions.map(certifiedVersion),
      };
      await this.repo.updateItem(m, batchId, documentId, 'erased', result, null);
      await this.audit.append(m, {
        actor: executor,
        actorName: 'system',
        action: 'document.crypto_erase',
        targetType: 'Document',
        targetId: documentId,
        outcome: 'allowed',
        details: { batchId, keysErased, versions: versions.length },
      });
      return result;
    });
  }

  private async extend(m: EntityManager, item: ItemRow, executor: Who, now: Date): Promise<null> {
    const batch = await this.repo.findBatch(m, item.batchId);
    await this.retention.extend(m, item.documentId, item.extendUntil!, item.decisionReason!, batch?.approvedBy ?? null, now);
    await this.repo.updateItem(m, item.batchId, item.documentId, 'extended', { extendedUntil: item.extendUntil!.toISOString(), reason: item.decisionReason }, now);
    await this.audit.append(m, {
      actor: executor,
      actorName: 'system',
      action: 'retention.extend',
      targetType: 'Document',
      targetId: item.documentId,
      outcome: 'allowed',
      details: { batchId: item.batchId, extendedUntil: item.extendUntil!.toISOString(), reason: item.decisionReason },
    });
    return null;
  }

  /** Issues the one certificate of the batch once every item is finished. */
  private async finish(batchId: string, executor: Who, keyTableVacuumed: boolean): Promise<boolean> {
    return this.tx.run(async (m) => {
      const batch = await this.repo.findBatch(m, batchId, true);
      if (!batch || batch.state === 'completed') return true;
      if (batch.state !== 'executing') return false;
      const items = await this.repo.items(m, batchId);
      if (items.some((i) => i.state === 'pending' || i.state === 'erased')) return false;
      const now = this.clock.now();
      const destroyed = items.filter((i) => i.state === 'destroyed').map((i) => i.result as unknown as DestroyedResult);
      const checks = destroyed.map((r) => new Date(r.holdCheckedAt).getTime());
      const certificate = buildCertificate({
        certificateId: randomUUID(),
        batchId,
        issuedAt: now,
        signingKeyId: this.signer.keyId,
        organisation: this.config.organisationName,
        tool: kuraTool(),
        proposer: { userId: batch.proposedBy, name: batch.proposedByName, at: batch.proposedAt },
        approver: { userId: batch.approvedBy!, name: batch.approvedByName!, at: batch.approvedAt! },
        startedAt: batch.approvedAt!,
        completedAt: now,
        holdCheckedAt: checks.length ? new Date(Math.max(...checks)) : now,
        keyTableVacuumed,
        records: destroyed.map((r) => ({
          ...r.record,
          createdAt: new Date(r.record.createdAt),
          triggerDate: r.record.triggerDate ? new Date(r.record.triggerDate) : null,
          dispositionDate: r.record.dispositionDate ? new Date(r.record.dispositionDate) : null,
          destroyedAt: new Date(r.destroyedAt),
          prefix: r.prefix && { ...r.prefix, verifiedAt: new Date(r.prefix.verifiedAt) },
          versions: r.versions.map((v) => {
            const check = r.verification.find((c) => c.objectKey === v.objectKey);
            return { ...v, createdAt: new Date(v.createdAt), objectDeleted: check?.objectDeleted ?? false, absent: check?.absent ?? false, verifiedAt: new Date(check?.verifiedAt ?? r.destroyedAt) };
          }),
        })),
        notDestroyed: items
          .filter((i) => i.state === 'extended' || i.state === 'skipped')
          .map((i) => ({ recordId: i.documentId, outcome: i.state as 'extended' | 'skipped', reason: String((i.result as { reason?: string } | null)?.reason ?? '') })),
      });
      const signed = signCertificate(certificate, this.signer);
      await this.repo.insertCertificate(m, {
        id: certificate.certificateId,
        batchId,
        issuedAt: now,
        keyId: signed.signature.keyId,
        algorithm: 'Ed25519',
        certificate: certificateBytes(certificate).toString('utf8'),
        signature: signed.signature.value,
      });
      await this.repo.complete(m, batchId, now);
      await this.audit.append(m, {
        actor: executor,
        actorName: 'system',
        action: 'disposition.complete',
        targetType: 'DispositionBatch',
        targetId: batchId,
        outcome: 'allowed',
        details: { certificateId: certificate.certificateId, destroyed: destroyed.length, notDestroyed: certificate.notDestroyed.length, keyId: signed.signature.keyId },
      });
      return true;
    });
  }
}
