import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { ObjectStore, StoredObject } from '@kura/storage';
import { PendingUploadsRepository } from './pending-uploads.repository';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const CONTENT_KEY = new RegExp(`^documents/(${UUID})/(${UUID})$`);
const PAGE = 500;
/** Versions committed this close to the start of a run may not have been listed yet. */
const CLOCK_MARGIN_MS = 60_000;

export interface ReconcileReport {
  /** Objects deleted because no version row claims them (after the grace period). */
  orphansRemoved: string[];
  /** Intents of uploads that never committed, cleared. */
  intentsCleared: number;
  /** Live version rows whose object is gone: integrity alarms. */
  missing: Array<{ documentId: string; version: number; storageKey: string }>;
  versionsChecked: number;
}

/**
 * Makes the object store and the version rows agree (issue 10): an object no version row
 * claims is deleted once its upload is older than the grace period (kill -9, a lost
 * connection, a failed cleanup), and a live version whose object is missing is reported
 * as an integrity alarm. Safe on several workers at once: intents are claimed with SKIP
 * LOCKED, an upload's commit needs its intent, and deletes are idempotent.
 */
@Injectable()
export class ContentReconciler {
  private readonly logger = new Logger(ContentReconciler.name);

  constructor(
    private readonly repo: PendingUploadsRepository,
    private readonly store: ObjectStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
  ) {}

  async reconcile(options: { graceMs?: number } = {}): Promise<ReconcileReport> {
    const graceMs = options.graceMs ?? this.config.reconcileGraceSeconds * 1000;
    const started = this.clock.now();
    const report: ReconcileReport = { orphansRemoved: [], intentsCleared: 0, missing: [], versionsChecked: 0 };
    await this.clearStaleIntents(graceMs, report);
    await this.removeUnclaimedObjects(new Date(started.getTime() - graceMs), report);
    await this.findMissingObjects(new Date(started.getTime() - CLOCK_MARGIN_MS), report);
    this.logger.log({ msg: 'content reconciled', orphansRemoved: report.orphansRemoved.length, intentsCleared: report.intentsCleared, missing: report.missing.length, versionsChecked: report.versionsChecked });
    return report;
  }

  /** Uploads that never committed: the object (if any was written) goes, then the intent. */
  private async clearStaleIntents(graceMs: number, report: ReconcileReport): Promise<void> {
    for (;;) {
      const claimed = await this.repo.dataSource.transaction(async (m) => {
        const stale = await this.repo.lockStale(m, graceMs, PAGE);
        for (const intent of stale) {
          // Under the intent's lock: the upload's own commit (which deletes the intent) waits or has happened.
          if (!(await this.repo.versionExists(intent.storageKey, m))) {
            const existed = (await this.store.stat(intent.storageKey)) !== null;
            await this.store.delete(intent.storageKey);
            if (existed) {
              report.orphansRemoved.push(intent.storageKey);
              await this.audit.append(m, this.removal(intent.documentId, intent.storageKey, 'upload-never-committed'));
            }
          }
          await this.repo.forget(intent.storageKey, m);
          report.intentsCleared++;
        }
        return stale.length;
      });
      if (claimed < PAGE) return;
    }
  }

  /** Objects neither a version row nor an intent claims: an intent cleared before its object was deleted, or older code. */
  private async removeUnclaimedObjects(before: Date, report: ReconcileReport): Promise<void> {
    let page: StoredObject[] = [];
    const flush = async () => {
      const claimed = await this.repo.claimedKeys(page.map((o) => o.key));
      for (const o of page) {
        const match = CONTENT_KEY.exec(o.key);
        if (!match || claimed.has(o.key) || !o.lastModified || o.lastModified >= before) continue;
        await this.store.delete(o.key);
        report.orphansRemoved.push(o.key);
        await this.audit.record(this.removal(match[1], o.key, 'no-version-row'));
      }
      page = [];
    };
    for await (const o of this.store.list('documents/')) {
      page.push(o);
      if (page.length === PAGE) await flush();
    }
    if (page.length) await flush();
  }

  /** Live versions (data key not erased) whose object is gone: content lost, an integrity alarm. */
  private async findMissingObjects(before: Date, report: ReconcileReport): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const versions = await this.repo.liveVersions(before, after, PAGE);
      if (versions.length === 0) return;
      after = versions[versions.length - 1].versionId;
      for (let i = 0; i < versions.length; i += 8) {
        const slice = versions.slice(i, i + 8);
        const stats = await Promise.all(slice.map((v) => this.store.stat(v.storageKey)));
        for (const [j, v] of slice.entries()) {
          report.versionsChecked++;
          if (stats[j] !== null) continue;
          report.missing.push({ documentId: v.documentId, version: v.number, storageKey: v.storageKey });
          this.logger.error({ msg: 'integrity alarm: a version has no object', documentId: v.documentId, version: v.number });
          await this.audit.record({ actor: null, actorName: 'system', action: 'integrity.object_missing', targetType: 'Document', targetId: v.documentId, outcome: 'failed', details: { version: v.number, objectKey: v.storageKey } });
        }
      }
    }
  }

  private removal(documentId: string, objectKey: string, reason: string) {
    return { actor: null, actorName: 'system', action: 'content.orphan_removed', targetType: 'Document', targetId: documentId, outcome: 'allowed' as const, details: { objectKey, reason } };
  }
}
