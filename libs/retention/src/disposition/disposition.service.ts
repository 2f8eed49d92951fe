import { Injectable } from '@nestjs/common';
import { DocumentAccess, RETENTION_DOCUMENT_ACTION, type Visibility } from '@kura/access';
import { AuditService, type Page, type PagingQuery } from '@kura/audit';
import { canonicalJson, Clock, DomainError, ErrorCode, classificationName } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { renderCertificatePdf } from '../certificate/certificate-pdf';
import { serializeSignedCertificate } from '../certificate/certificate-signing';
import { CertificateRedaction, DeletionCertificate, REDACTION_NOTE, SignedCertificate } from '../certificate/certificate.model';
import { DocumentFacts, RetentionRepository } from '../retention.repository';
import { ApproveBatchDto, ProposeBatchDto } from './disposition.dto';
import { DispositionRepository } from './disposition.repository';
import { BatchSummaryView, batchSummaryView, BatchView, batchView, DueItemView, dueItemView, reasonFor } from './disposition-views';

export type CertificateFormat = 'json' | 'pdf';

export interface ProposalView extends BatchView {
  dryRun: true;
  plan: Array<{
    documentId: string;
    title: string;
    classification: string;
    series: { id: string; code: string; name: string; disposition: string; citation: string };
    dispositionDate: string;
    dueReason: string;
    reviewRequired: boolean;
    versions: Array<{ number: number; sha256: string; size: number; objectKey: string; dataKey: 'present' | 'already erased' }>;
  }>;
  totals: { documents: number; versions: number; objects: number; dataKeys: number; bytes: number };
}

@Injectable()
export class DispositionService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly repo: DispositionRepository,
    private readonly retention: RetentionRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly access: DocumentAccess,
    private readonly config: KuraConfig,
  ) {}

  /** The due documents the reader may see, filtered, counted and paged in SQL; audited. */
  async due(actor: Actor, query: PagingQuery = {}): Promise<Page<DueItemView>> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 50;
    const m = this.tx.outside;
    const { rows, total } = await this.retention.duePage(m, this.clock.now(), this.access.filter(actor, 'read'), { limit: pageSize, offset: (page - 1) * pageSize });
    // Named only to a reader who may read batches: an open batch never shows to one who may not.
    const open = this.access.ability(actor).can('read', 'Disposition') ? await this.repo.inOpenBatch(m, rows.map((f) => f.id)) : [];
    const batchOf = new Map(open.map((o) => [o.documentId, { id: o.batchId, state: o.state }]));
    await this.audit.record({ actor, action: 'disposition.due.list', targetType: 'Disposition', outcome: 'allowed', details: { page, pageSize, returned: rows.length, total } });
    return { items: rows.map((f) => dueItemView(f, batchOf.get(f.id) ?? null)), page, pageSize, total };
  }

  /** Checks every document is due and unblocked now; returns the facts or throws naming each blocked id. */
  private blockers(facts: DocumentFacts[], ids: string[], now: Date): { missing: string[]; held: string[]; notDue: string[]; destroyed: string[] } {
    const byId = new Map(facts.map((f) => [f.id, f]));
    const out = { missing: [] as string[], held: [] as string[], notDue: [] as string[], destroyed: [] as string[] };
    for (const id of ids) {
      const f = byId.get(id);
      if (!f) out.missing.push(id);
      else if (f.status === 'destroyed' || f.status === 'pending_disposition') out.destroyed.push(id);
      else if (f.activeHolds > 0) out.held.push(id);
      else if (!f.dispositionAt || f.dispositionAt > now || (f.extendedUntil && f.extendedUntil > now)) out.notDue.push(id);
    }
    return out;
  }

  async propose(actor: Actor, dto: ProposeBatchDto): Promise<ProposalView> {
    const now = this.clock.now();
    const outcome = await this.tx.run(async (m) => {
      const facts = await this.retention.facts(m, dto.documentIds, true);
      // Hidden documents answer like missing ones, and the probe is audited (SPEC §4).
      await this.access.requireAll(actor, dto.documentIds, RETENTION_DOCUMENT_ACTION, 'disposition.propose', m);
      const b = this.blockers(facts, dto.documentIds, now);
      if (b.missing.length) return { error: new DomainError(ErrorCode.NotFound, 'Some documents do not exist.', { documentIds: b.missing }) };
      if (b.destroyed.length) return { error: new DomainError(ErrorCode.Conflict, 'Some documents are destroyed or being destroyed.', { documentIds: b.destroyed }) };
      // A.5.33: a record under legal hold is never proposed for destruction.
      if (b.held.length) return { error: new DomainError(ErrorCode.Conflict, 'Some documents are under legal hold.', { documentIds: b.held, reason: 'held' }), audit: b.held };
      if (b.notDue.length) return { error: new DomainError(ErrorCode.Conflict, 'Some documents are not due for disposition.', { documentIds: b.notDue, reason: 'not-due' }), audit: b.notDue };
      const open = await this.repo.inOpenBatch(m, dto.documentIds);
      if (open.length) return { error: new DomainError(ErrorCode.Conflict, 'Some documents are already in an open disposition batch.', { documents: open }) };

      const batchId = await this.repo.createBatch(m, actor, now);
      const versions = await this.retention.versions(m, dto.documentIds);
      const plan: ProposalView['plan'] = [];
      for (const f of facts) {
        const own = versions.filter((v) => v.documentId === f.id);
        const entry = {
          documentId: f.id,
          title: f.title,
          classification: classificationName(f.classification),
          series: { id: f.seriesId!, code: f.seriesCode!, name: f.seriesName!, disposition: f.disposition!, citation: f.citation! },
          dispositionDate: f.dispositionAt!.toISOString(),
          dueReason: reasonFor(f),
          reviewRequired: f.disposition === 'review',
          versions: own.map((v) => ({ number: v.number, sha256: v.sha256, size: Number(v.size), objectKey: v.storageKey, dataKey: v.hasKey ? ('present' as const) : ('already erased' as const) })),
        };
        plan.push(entry);
        await this.repo.addItem(m, batchId, f.id, entry.dueReason, { versions: entry.versions, series: entry.series.code, reviewRequired: entry.reviewRequired });
      }
      await this.audit.append(m, {
        actor,
        action: 'disposition.propose',
        targetType: 'DispositionBatch',
        targetId: batchId,
        outcome: 'allowed',
        details: { documentIds: dto.documentIds, versions: versions.length },
      });
      const batch = (await this.repo.findBatch(m, batchId))!;
      const everything: Visibility = { visible: new Set(dto.documentIds), withheld: 0 };
      return { view: { ...batchView(batch, await this.repo.items(m, batchId), false, everything), dryRun: true as const, plan } };
    }).catch((err: unknown) => this.access.auditRefusal(err));
    if ('error' in outcome) {
      if (outcome.audit) {
        await this.audit.record({ actor, action: 'disposition.propose', targetType: 'Document', targetId: outcome.audit[0], outcome: 'denied', details: { ...outcome.error.extensions } });
      }
      throw outcome.error;
    }
    const v = outcome.view;
    const all = v.plan.flatMap((p) => p.versions);
    return {
      ...v,
      totals: { documents: v.plan.length, versions: all.length, objects: all.length, dataKeys: all.filter((x) => x.dataKey === 'present').length, bytes: all.reduce((s, x) => s + x.size, 0) },
    };
  }

  /**
   * Four-eyes (A.5.3 segregation of duties): a second records officer approves; the approval
   * commits and queues the batch for a worker, which executes it. Waits up to `waitMs` for the
   * worker to finish and returns the batch as it then is (state `executing` with its progress,
   * or `completed`).
   */
  async approve(actor: Actor, id: string, dto: ApproveBatchDto, waitMs = 0): Promise<BatchView> {
    const now = this.clock.now();
    const outcome = await this.tx.run(async (m) => {
      const batch = await this.repo.findBatch(m, id, true);
      if (!batch) return { error: DomainError.notFound('disposition batch') };
      if (batch.proposedBy === actor.id) {
        return { error: new DomainError(ErrorCode.Forbidden, 'The proposer of a disposition batch cannot approve it: a second records officer must.'), reason: 'four-eyes' };
      }
      if (batch.state !== 'proposed') return { error: new DomainError(ErrorCode.Conflict, `The batch is already ${batch.state}.`) };
      const items = await this.repo.items(m, id);
      const ids = items.map((i) => i.documentId);
      const facts = await this.retention.facts(m, ids, true);
      // The approver must hold the right on every document of the batch; a refusal says how many, never which.
      await this.access.requireCovered(actor, ids, RETENTION_DOCUMENT_ACTION, 'disposition.approve', { type: 'DispositionBatch', id }, m);
      const b = this.blockers(facts, ids, now);
      if (b.held.length) return { error: new DomainError(ErrorCode.Conflict, 'Some documents are under legal hold.', { documentIds: b.held, reason: 'held' }), reason: 'held' };
      if (b.missing.length || b.destroyed.length || b.notDue.length) {
        return { error: new DomainError(ErrorCode.Conflict, 'Some documents are no longer due for disposition.', { documentIds: [...b.missing, ...b.destroyed, ...b.notDue], reason: 'not-due' }), reason: 'not-due' };
      }

      const decisions = new Map((dto.decisions ?? []).map((d) => [d.documentId, d]));
      const unknown = [...decisions.keys()].filter((d) => !ids.includes(d));
      if (unknown.length) return { error: DomainError.validation('Decisions name documents that are not in the batch.', [{ field: 'decisions', messages: unknown }]) };
      const byId = new Map(facts.map((f) => [f.id, f]));
      const undecided = ids.filter((d) => byId.get(d)?.disposition === 'review' && !decisions.has(d));
      if (undecided.length) {
        return { error: DomainError.validation('Documents of a series with disposition "review" need an explicit decision: destroy, or extend with a reason.', [{ field: 'decisions', messages: undecided }]) };
      }
      for (const d of decisions.values()) {
        const until = d.extendUntil ? new Date(d.extendUntil) : null;
        if (d.decision === 'extend' && (!until || until <= now)) return { error: DomainError.validation('extendUntil must be in the future.', [{ field: 'decisions.extendUntil', messages: [d.documentId] }]) };
        await this.repo.setDecision(m, id, d.documentId, d.decision, d.reason ?? null, d.decision === 'extend' ? until : null);
      }
      await this.repo.approve(m, id, actor, now);
      await this.audit.append(m, {
        actor,
        action: 'disposition.approve',
        targetType: 'DispositionBatch',
        targetId: id,
        outcome: 'allowed',
        details: { proposedBy: batch.proposedByName, documentIds: ids, decisions: [...decisions.values()].map((d) => ({ documentId: d.documentId, decision: d.decision })) },
      });
      return { ok: true as const };
    }).catch((err: unknown) => this.access.auditRefusal(err));
    if ('error' in outcome) {
      if (outcome.reason) {
        await this.audit.record({ actor, action: 'disposition.approve', targetType: 'DispositionBatch', targetId: id, outcome: 'denied', details: { reason: outcome.reason } });
      }
      throw outcome.error;
    }
    if (waitMs > 0) await this.awaitExecution(id, waitMs);
    return this.view(actor, id);
  }

  /**
   * Real time, not the domain clock: how long the caller waits. Ends early when no worker has
   * taken the batch within a few worker polls (none is running), so an api without workers
   * still answers promptly.
   */
  private async awaitExecution(id: string, waitMs: number): Promise<void> {
    const started = Date.now();
    const claimBy = started + Math.min(waitMs, 2 * this.config.dispositionPollMs + 1_000);
    for (;;) {
      const b = await this.repo.findBatch(this.tx.outside, id);
      const now = Date.now();
      if (!b || b.state !== 'executing' || now - started >= waitMs || (!b.leased && now >= claimBy)) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, waitMs - (now - started))));
    }
  }

  /** Withdraws a proposal that has not been approved (either officer); audited. */
  async cancel(actor: Actor, id: string): Promise<BatchView> {
    await this.tx.run(async (m) => {
      const batch = await this.repo.findBatch(m, id, true);
      if (!batch) throw DomainError.notFound('disposition batch');
      if (batch.state !== 'proposed') throw new DomainError(ErrorCode.Conflict, `The batch is ${batch.state}: only a proposal can be cancelled.`);
      const items = await this.repo.items(m, id);
      await this.access.requireCovered(actor, items.map((i) => i.documentId), RETENTION_DOCUMENT_ACTION, 'disposition.cancel', { type: 'DispositionBatch', id }, m);
      await this.repo.cancel(m, id, this.clock.now());
      await this.audit.append(m, { actor, action: 'disposition.cancel', targetType: 'DispositionBatch', targetId: id, outcome: 'allowed', details: { proposedBy: batch.proposedByName } });
    }).catch((err: unknown) => this.access.auditRefusal(err));
    return this.view(actor, id);
  }

  /** `GET /disposition/batches/:id`: audited; documents the reader may not see only as a count. */
  async batch(actor: Actor, id: string): Promise<BatchView> {
    const m = this.tx.outside;
    if (!(await this.repo.findBatch(m, id))) {
      await this.audit.record({ actor, action: 'disposition.batch.read', targetType: 'DispositionBatch', targetId: id, outcome: 'failed', details: { reason: 'not-found' } });
      throw DomainError.notFound('disposition batch');
    }
    const view = await this.view(actor, id);
    await this.audit.record({ actor, action: 'disposition.batch.read', targetType: 'DispositionBatch', targetId: id, outcome: 'allowed', details: { items: view.items.length, withheldItems: view.withheldItems } });
    return view;
  }

  /** `GET /disposition/batches`: newest first, paged; counts only, no document ids. */
  async batches(actor: Actor, query: PagingQuery): Promise<Page<BatchSummaryView>> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 50;
    const { rows, total } = await this.repo.listBatches(this.tx.outside, { limit: pageSize, offset: (page - 1) * pageSize });
    await this.audit.record({ actor, action: 'disposition.batch.list', targetType: 'DispositionBatch', outcome: 'allowed', details: { page, pageSize, returned: rows.length, total } });
    return { items: rows.map((b) => batchSummaryView(b, b.state === 'completed')), page, pageSize, total };
  }

  private async view(actor: Actor, id: string): Promise<BatchView> {
    const m = this.tx.outside;
    const b = await this.repo.findBatch(m, id);
    if (!b) throw DomainError.notFound('disposition batch');
    const items = await this.repo.items(m, id);
    const seen = await this.access.visibility(actor, items.map((i) => i.documentId));
    return batchView(b, items, (await this.repo.certificate(m, id)) !== null, seen);
  }

  /** For a destroyed document's metadata: when, by which batch, and where its certificate is. */
  async tombstone(documentId: string): Promise<{ destroyedAt: string; batchId: string; certificate: string } | null> {
    const d = await this.repo.destructionOf(this.tx.outside, documentId);
    if (!d) return null;
    return { destroyedAt: d.destroyedAt.toISOString(), batchId: d.batchId, certificate: `/api/v1/disposition/batches/${d.batchId}/certificate` };
  }

  private async signedCertificate(id: string): Promise<SignedCertificate | null> {
    const m = this.tx.outside;
    const row = await this.repo.certificate(m, id);
    if (!row) return null;
    return {
      certificate: JSON.parse(row.certificate) as DeletionCertificate,
      signature: { algorithm: row.algorithm, keyId: row.keyId, value: row.signature },
    };
  }

  /**
   * The stored, signed certificate as the canonical JSON file or its PDF rendering. A
   * reader who may not see every record gets a redacted copy: those records only as a
   * count, and a `redaction` note saying the signature covers the full certificate.
   */
  async certificate(actor: Actor, id: string, format: CertificateFormat): Promise<{ contentType: string; body: Buffer; filename: string }> {
    const m = this.tx.outside;
    const batch = await this.repo.findBatch(m, id);
    const signed = batch && (await this.signedCertificate(id));
    if (!signed) {
      await this.audit.record({ actor, action: 'disposition.certificate.read', targetType: 'DispositionBatch', targetId: id, outcome: 'failed', details: { format, reason: batch ? 'not-issued' : 'not-found' } });
      if (!batch) throw DomainError.notFound('disposition batch');
      // The batch exists but its execution has not finished (or it was never approved): a state conflict, not an absence.
      const why: Record<string, string> = {
        proposed: 'The batch has no certificate: it has not been approved.',
        cancelled: 'The batch was cancelled: no certificate is issued.',
      };
      throw new DomainError(ErrorCode.Conflict, why[batch.state] ?? 'The batch has no certificate yet: it has not finished executing; its progress shows how far it is.', { state: batch.state });
    }
    const c = signed.certificate;
    const seen = await this.access.visibility(actor, [...c.records.map((r) => r.recordId), ...c.notDestroyed.map((n) => n.recordId)]);
    const redaction = redactionOf(c, seen);
    await this.audit.record({ actor, action: 'disposition.certificate.read', targetType: 'DispositionBatch', targetId: id, outcome: 'allowed', details: { format, ...(redaction && { withheldRecords: redaction.withheldRecords + redaction.withheldNotDestroyed }) } });
    if (redaction) {
      const redacted = { ...c, records: c.records.filter((r) => seen.visible.has(r.recordId)), notDestroyed: c.notDestroyed.filter((n) => seen.visible.has(n.recordId)) };
      const view = { certificate: redacted, signature: signed.signature };
      if (format === 'pdf') return { contentType: 'application/pdf', body: await renderCertificatePdf(view, redaction), filename: `certificate-${id}-redacted.pdf` };
      return { contentType: 'application/json; charset=utf-8', body: Buffer.from(canonicalJson({ ...view, redaction }), 'utf8'), filename: `certificate-${id}-redacted.json` };
    }
    if (format === 'pdf') return { contentType: 'application/pdf', body: await renderCertificatePdf(signed), filename: `certificate-${id}.pdf` };
    return { contentType: 'application/json; charset=utf-8', body: Buffer.from(serializeSignedCertificate(signed), 'utf8'), filename: `certificate-${id}.json` };
  }
}

/** null when the reader may see every record of the certificate. */
function redactionOf(c: DeletionCertificate, seen: Visibility): CertificateRedaction | null {
  const withheldRecords = c.records.filter((r) => !seen.visible.has(r.recordId)).length;
  const withheldNotDestroyed = c.notDestroyed.filter((n) => !seen.visible.has(n.recordId)).length;
  if (!withheldRecords && !withheldNotDestroyed) return null;
  return { withheldRecords, withheldNotDestroyed, note: REDACTION_NOTE };
}
