import { classificationName } from '@kura/common';
import { buildAbility, documentSubject } from '@kura/access';
import type { Actor } from '@kura/identity';
import type { DocumentFacts } from '../retention.repository';
import { dueReason, parseTrigger, statutoryMinimumOf } from '../retention-period';
import type { BatchRow, ItemRow } from './disposition.repository';

/**
 * The same CASL rules that guard single access (SPEC §4): a document the officer may not
 * read (above clearance; `specific` without the designation) is treated as absent.
 */
export function mayRead(actor: Actor, f: Pick<DocumentFacts, 'classification' | 'department' | 'personalData' | 'ownerId' | 'status'>): boolean {
  return buildAbility(actor).can('read', documentSubject({ classification: f.classification, department: f.department, personalData: f.personalData, ownerId: f.ownerId, status: f.status }));
}

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
}

export function dueItemView(f: DocumentFacts): DueItemView {
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
