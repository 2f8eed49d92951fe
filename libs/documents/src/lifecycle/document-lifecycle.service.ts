import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@kura/common';
import type { Tx } from '@kura/database';
import { ObjectStore } from '@kura/storage';
import { DocumentsRepository, VersionRecord } from '../documents.repository';
import { assertTransition, DocumentStatus } from './document-lifecycle';

/**
 * What other capabilities (retention) may do to a document's life, inside their own
 * transaction: the only writer of `documents.status` and of erased data keys. Each step
 * locks the document rows, checks the state machine and leaves PostgreSQL's trigger
 * (migration 1764000450000) nothing to refuse.
 */
@Injectable()
export class DocumentLifecycle {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly store: ObjectStore,
  ) {}

  /** Row locks in id order: serialises holds, dispositions and every commit path of these documents. */
  async lock(tx: Tx, documentIds: string[]): Promise<Map<string, DocumentStatus>> {
    const rows = await this.repo.lockStates(tx, [...new Set(documentIds)]);
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** A legal hold now covers these documents: active ones become on_hold (held ones stay). */
  async placeHold(tx: Tx, documentIds: string[]): Promise<void> {
    for (const [id, status] of await this.lock(tx, documentIds)) {
      if (status === 'on_hold') continue;
      await this.move(tx, id, status, 'on_hold');
    }
  }

  /** No active hold covers these documents any more: they become active again. */
  async releaseHold(tx: Tx, documentIds: string[]): Promise<void> {
    for (const [id, status] of await this.lock(tx, documentIds)) {
      if (status === 'on_hold') await this.move(tx, id, status, 'active');
    }
  }

  /** First step of a disposition: from now on no version, key or metadata of the document changes. */
  async markPendingDisposition(tx: Tx, documentId: string): Promise<void> {
    const status = await this.statusOf(tx, documentId);
    if (status !== 'pending_disposition') await this.move(tx, documentId, status, 'pending_disposition');
  }

  /** SPEC §3 crypto-erase: destroys every wrapped data key of a document pending disposition. Returns how many. */
  async eraseKeys(tx: Tx, documentId: string): Promise<number> {
    const status = await this.statusOf(tx, documentId);
    if (status !== 'pending_disposition') throw new DomainError(ErrorCode.Conflict, 'Data keys are erased only by a disposition in progress.', { status });
    return this.repo.eraseDataKeys(tx, documentId);
  }

  /** Every version of these documents, by document then number (no key material). */
  versionsOf(tx: Tx, documentIds: string[]): Promise<VersionRecord[]> {
    return this.repo.versionRecords(tx, documentIds);
  }

  /**
   * Last step of a disposition. Re-reads the versions under the row lock and refuses while
   * any data key or any object remains (A.8.10: the deletion is recorded only once verified).
   * Returns exactly the versions destroyed: what the certificate lists.
   */
  async markDestroyed(tx: Tx, documentId: string, at: Date, title?: string): Promise<VersionRecord[]> {
    const status = await this.statusOf(tx, documentId);
    assertTransition(status, 'destroyed');
    const versions = await this.repo.versionRecords(tx, [documentId]);
    const keyed = versions.filter((v) => v.hasKey).map((v) => v.number);
    if (keyed.length) throw new DomainError(ErrorCode.Conflict, 'Data keys remain: the document cannot be recorded as destroyed.', { versions: keyed });
    const present: number[] = [];
    for (const v of versions) if ((await this.store.stat(v.storageKey)) !== null) present.push(v.number);
    if (present.length) throw new DomainError(ErrorCode.Conflict, 'Objects remain: the document cannot be recorded as destroyed.', { versions: present });
    if (!(await this.repo.transition(tx, documentId, status, 'destroyed', { title, updatedAt: at }))) throw this.lost(documentId);
    return versions;
  }

  /** Erased keys survive as dead tuples until vacuumed (SPEC §7). */
  vacuumErasedKeys(): Promise<void> {
    return this.repo.vacuumVersions();
  }

  private async statusOf(tx: Tx, documentId: string): Promise<DocumentStatus> {
    const status = (await this.lock(tx, [documentId])).get(documentId);
    if (!status) throw DomainError.notFound('document');
    return status;
  }

  private async move(tx: Tx, id: string, from: DocumentStatus, to: DocumentStatus): Promise<void> {
    assertTransition(from, to);
    if (!(await this.repo.transition(tx, id, from, to))) throw this.lost(id);
  }

  private lost(id: string): Error {
    // Cannot happen under the row lock; fail closed if it does.
    return new Error(`document ${id} changed state under its row lock`);
  }
}
