import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import { ObjectStore } from '@kura/storage';
import { PendingUploadsRepository } from './pending-uploads.repository';

/**
 * The COMMIT of a version was sent but its reply never came: the version may or may not
 * have committed, and a look found it not (yet) visible. Nothing is deleted: the
 * reconciler decides after its grace period.
 */
export class CommitOutcomeUnknown extends DomainError {
  constructor() {
    super(ErrorCode.Unavailable, 'The database connection was lost while saving; the upload may or may not have been saved. Check before sending it again.');
  }
}

/**
 * Write-ahead intent for content (issue 10). An intent row naming the storage key commits
 * before the first byte goes to the object store and is removed by the transaction that
 * commits the version, so at every moment an object is claimed by a version row, by an
 * intent, or by nothing (an orphan the reconciler removes after its grace period). No
 * request deletes an object whose version row may have committed.
 */
@Injectable()
export class ContentIntents {
  private readonly logger = new Logger(ContentIntents.name);

  constructor(
    private readonly repo: PendingUploadsRepository,
    private readonly store: ObjectStore,
    private readonly tx: TransactionRunner,
  ) {}

  /** Before the first byte: if the database cannot record the intent, nothing is stored. */
  async begin(storageKey: string, documentId: string): Promise<void> {
    await this.repo.record(storageKey, documentId);
  }

  /**
   * Runs the version's transaction and fulfils the intent in it. A failure before COMMIT
   * was sent rethrows as is (nothing committed: the caller abandons the upload). A failure
   * of the COMMIT itself is ambiguous: look; if the version is there, the work's result
   * stands; otherwise CommitOutcomeUnknown and the object is left to the reconciler.
   */
  commit<T>(storageKey: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.commitFulfilling(storageKey, async (m) => ({ value: await work(m), fulfilled: await this.repo.fulfil(m, storageKey) }));
  }

  /**
   * As commit(), for work that fulfils the intent itself in one of its statements (one round
   * trip fewer per document: PendingUploadsRepository.fulfilSql) and says whether it did.
   */
  async commitFulfilling<T>(storageKey: string, work: (manager: EntityManager) => Promise<{ value: T; fulfilled: boolean }>): Promise<T> {
    let done: { value: T } | undefined;
    try {
      return await this.tx.run(async (m) => {
        const { value, fulfilled } = await work(m);
        // The reconciler gave this upload up (it outlived the grace period): its object may be gone.
        if (!fulfilled) throw new DomainError(ErrorCode.Unavailable, 'The upload took too long and was abandoned; send it again.');
        done = { value };
        return value;
      });
    } catch (err) {
      if (!done) throw err;
      const committed = await this.repo.versionExists(storageKey).catch(() => false);
      this.logger.warn({ msg: 'COMMIT outcome was lost on the wire', storageKey, committed, error: err instanceof Error ? err.message : String(err) });
      if (committed) return done.value;
      throw new CommitOutcomeUnknown();
    }
  }

  /**
   * After a failure that certainly committed nothing: deletes the object, then the intent.
   * If the store cannot delete, the intent stays and the reconciler retries.
   */
  async abandon(storageKey: string, err?: unknown): Promise<void> {
    if (err instanceof CommitOutcomeUnknown) return;
    try {
      await this.store.delete(storageKey);
    } catch (e) {
      this.logger.warn({ msg: 'could not delete an abandoned upload; the reconciler will', storageKey, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    await this.repo.forget(storageKey).catch((e: unknown) => {
      this.logger.warn({ msg: 'could not forget an abandoned upload intent; the reconciler will', storageKey, error: e instanceof Error ? e.message : String(e) });
    });
  }
}
