import { classificationName } from '@kura/common';
import type { Visibility } from '@kura/access';
import type { DocumentFacts } from '../retention.repository';
import { dueReason, parseTrigger, statutoryMinimumOf } from '../retention-period';
import type { BatchRow, ItemCounts, ItemRow, OpenBatchRow } from './disposition.repository';

export function reasonFor(f: DocumentFacts): string {
  if (!f.trigger || !f.seriesCode) return 'No series';
  const trigger = parseTrigger(f.trigger);
  if (!trigger) return 'Invalid trigger';
  const events = Object.fromEntries(Object.entries(f.events).map(([k, v]) => [k, new Date(v)]));
  const base = dueReason({ trigger, period: { years: f.years ?? 0, months: f.months ?? 0, days: f.days ?? 0 }, createdAt: f.createdAt, events, minimum: statutoryMinimumOf(f) }, f.seriesCode) ?? 'Waiting for event';
  return f.extendedUntil ? `${base} Extension until ${f.extendedUntil.toISOString()} ended.` : base;
}

export interface DueItemView {
  documentId: string;
  title: string;
  classification: string;
  personalData: string;
  seriesId: string;
  seriesCode: string;
  disposition: 'destroy' | 'review';
  triggerDate: string;
  dispositionDate: string;
  reason: string;
  /**
   * The open batch (proposed, or approved and still executing) the document is already in:
   * it stays due until destroyed, but cannot be proposed again while that batch is open.
   */
  openBatch: { id: string; state: OpenBatchRow['state'] } | null;
}

export function dueItemView(f: DocumentFacts, openBatch: DueItemView['openBatch'] = null): DueItemView {
  return {
    documentId: f.id,
    title: f.title,
    classification: classificationName(f.classification),
    personalData: f.personalData,
    seriesId: f.seriesId!,
    seriesCode: f.seriesCode!,
    disposition: f.disposition!,
    triggerDate: f.triggerAt!.toISOString(),
    dispositionDate: f.dispositionAt!.toISOString(),
    reason: reasonFor(f),
    openBatch,
  };
}

export interface BatchView {
  id: string;
  state: string;
  proposedBy: string;
  proposedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
  completedAt: string | null;
  /** Only the documents the reader may see (SPEC §4: the rest as a count). */
  items: Array<{ documentId: string; state: string; dueReason: string; decision: string | null; decisionReason: string | null }>;
  withheldItems: number;
  certificate: string | null;
  /** Counts over every item of the batch (withheld ones included, as numbers only). */
  progress: BatchProgress;
}

export interface BatchProgress {
  total: number;
  destroyed: number;
  extended: number;
  skipped: number;
  /** Not yet finished by a worker. */
  remaining: number;
  /** While the batch is executing: `running` when a worker holds it, `waiting` for one; otherwise null. */
  worker: 'running' | 'waiting' | null;
}

function countsOf(all: ItemRow[]): ItemCounts {
  const count = (state: string) => all.filter((i) => i.state === state).length;
  // A cancelled batch's items are skipped ("batch cancelled").
  return { total: all.length, destroyed: count('destroyed'), extended: count('extended'), skipped: count('skipped'), remaining: count('pending') + count('erased') };
}

function progressOf(b: BatchRow, counts: ItemCounts): BatchProgress {
  return { ...counts, worker: b.state === 'executing' ? (b.leased ? 'running' : 'waiting') : null };
}

/** A batch in the list: no document ids at all, only how many, and its progress. */
export type BatchSummaryView = Omit<BatchView, 'items' | 'withheldItems'> & { documents: number };

export function batchSummaryView(b: BatchRow & { counts: ItemCounts }, hasCertificate: boolean): BatchSummaryView {
  return {
    id: b.id,
    state: b.state,
    proposedBy: b.proposedByName,
    proposedAt: b.proposedAt.toISOString(),
    approvedBy: b.approvedByName,
    approvedAt: b.approvedAt?.toISOString() ?? null,
    completedAt: b.completedAt?.toISOString() ?? null,
    documents: b.counts.total,
    certificate: hasCertificate ? `/api/v1/disposition/batches/${b.id}/certificate` : null,
    progress: progressOf(b, b.counts),
  };
}

export function batchView(b: BatchRow, all: ItemRow[], hasCertificate: boolean, seen: Visibility): BatchView {
  const items = all.filter((i) => seen.visible.has(i.documentId));
  return {
    id: b.id,
    state: b.state,
    proposedBy: b.proposedByName,
    proposedAt: b.proposedAt.toISOString(),
    approvedBy: b.approvedByName,
    approvedAt: b.approvedAt?.toISOString() ?? null,
    completedAt: b.completedAt?.toISOString() ?? null,
    items: items.map((i) => ({ documentId: i.documentId, state: i.state, dueReason: i.dueReason, decision: i.decision, decisionReason: i.decisionReason })),
    withheldItems: all.length - items.length,
    certificate: hasCertificate ? `/api/v1/disposition/batches/${b.id}/certificate` : null,
    progress: progressOf(b, countsOf(all)),
  };
}
