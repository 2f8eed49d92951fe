import { classificationName } from '@kura/common';
import { Designation, type Actor } from '@kura/identity';
import { SPECIFIC_TITLE_PLACEHOLDER } from '../certificate/certificate.model';
import type { DocumentFacts } from '../retention.repository';
import { addPeriod, dueReason, parseTrigger } from '../retention-period';
import type { BatchRow, ItemRow } from './disposition.repository';

export const WITHHELD_TITLE = '[表題非表示 / title withheld]';

/** Officers see what is due, but not titles they could not read: `specific` without the designation, or above clearance. */
export function visibleTitle(actor: Actor | null, f: Pick<DocumentFacts, 'title' | 'personalData' | 'classification'>): string {
  if (f.personalData === 'specific' && !actor?.designations.includes(Designation.MyNumberHandler)) return SPECIFIC_TITLE_PLACEHOLDER;
  if (actor && f.classification > actor.clearance) return WITHHELD_TITLE;
  return f.title;
}

export function reasonFor(f: DocumentFacts): string {
  if (!f.trigger || !f.seriesCode) return 'No series';
  const trigger = parseTrigger(f.trigger);
  if (!trigger) return 'Invalid trigger';
  const events = Object.fromEntries(Object.entries(f.events).map(([k, v]) => [k, new Date(v)]));
  const base = dueReason({ trigger, period: { years: f.years ?? 0, months: f.months ?? 0, days: f.days ?? 0 }, createdAt: f.createdAt, events }, f.seriesCode) ?? 'Waiting for event';
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
}

export function dueItemView(actor: Actor, f: DocumentFacts): DueItemView {
  return {
    documentId: f.id,
    title: visibleTitle(actor, f),
    classification: classificationName(f.classification),
    personalData: f.personalData,
    seriesId: f.seriesId!,
    seriesCode: f.seriesCode!,
    disposition: f.disposition!,
    triggerDate: f.triggerAt!.toISOString(),
    dispositionDate: f.dispositionAt!.toISOString(),
    reason: reasonFor(f),
  };
}

/** The TS rule applied to the SQL facts, as a cross-check when it matters (execution). */
export function computedDispositionAt(f: DocumentFacts): Date | null {
  if (!f.triggerAt) return null;
  return addPeriod(f.triggerAt, { years: f.years ?? 0, months: f.months ?? 0, days: f.days ?? 0 });
}

export interface BatchView {
  id: string;
  state: string;
  proposedBy: string;
  proposedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
  completedAt: string | null;
  items: Array<{ documentId: string; state: string; dueReason: string; decision: string | null; decisionReason: string | null }>;
  certificate: string | null;
}

export function batchView(b: BatchRow, items: ItemRow[], hasCertificate: boolean): BatchView {
  return {
    id: b.id,
    state: b.state,
    proposedBy: b.proposedByName,
    proposedAt: b.proposedAt.toISOString(),
    approvedBy: b.approvedByName,
    approvedAt: b.approvedAt?.toISOString() ?? null,
    completedAt: b.completedAt?.toISOString() ?? null,
    items: items.map((i) => ({ documentId: i.documentId, state: i.state, dueReason: i.dueReason, decision: i.decision, decisionReason: i.decisionReason })),
    certificate: hasCertificate ? `/api/v1/disposition/batches/${b.id}/certificate` : null,
  };
}
