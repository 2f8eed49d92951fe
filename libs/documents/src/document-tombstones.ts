/**
 * Where a destroyed document's certificate of deletion is. Bound by the retention
 * capability: `{ provide: DOCUMENT_TOMBSTONES, useExisting: DispositionService }`.
 */
export interface DocumentTombstone {
  destroyedAt: string;
  batchId: string;
  /** Path of the signed certificate (JSON or PDF by Accept). */
  certificate: string;
}

export interface DocumentTombstones {
  tombstone(documentId: string): Promise<DocumentTombstone | null>;
}

export const DOCUMENT_TOMBSTONES = Symbol('DOCUMENT_TOMBSTONES');
