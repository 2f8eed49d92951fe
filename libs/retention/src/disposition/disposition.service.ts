import { Injectable } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode, classificationName } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { renderCertificatePdf } from '../certificate/certificate-pdf';
import { serializeSignedCertificate } from '../certificate/certificate-signing';
import { DeletionCertificate, SignedCertificate } from '../certificate/certificate.model';
import { DocumentFacts, RetentionRepository } from '../retention.repository';
import { DispositionExecutor } from './disposition.executor';
import { ApproveBatchDto, ProposeBatchDto } from './disposition.dto';
import { DispositionRepository } from './disposition.repository';
import { BatchView, batchView, DueItemView, dueItemView, mayRead, reasonFor } from './disposition-views';

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
    private readonly executor: DispositionExecutor,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async due(actor: Actor): Promise<{ items: DueItemView[] }> {
    const rows = await this.retention.due(this.tx.outside, this.clock.now());
    return { items: rows.filter((f) => mayRead(actor, f)).map(dueItemView) };
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
      const facts = (await this.retention.facts(m, dto.documentIds, true)).filter((f) => mayRead(actor, f));
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
      return { view: { ...batchView(batch, await this.repo.items(m, batchId), false), dryRun: true as const, plan } };
    });
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

  /** Four-eyes (A.5.3 segregation of duties): a second records officer approves, then the batch executes. */
  async approve(actor: Actor, id: string, dto: ApproveBatchDto): Promise<BatchView> {
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
      const unreadable = facts.filter((f) => !mayRead(actor, f)).map((f) => f.id);
      if (unreadable.length) {
        return { error: new DomainError(ErrorCode.Forbidden, 'The approver must be allowed to read every document of the batch.', { documentIds: unreadable }), reason: 'not-readable' };
      }
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
    });
    if ('error' in outcome) {
      if (outcome.reason) {
        await this.audit.record({ actor, action: 'disposition.approve', targetType: 'DispositionBatch', targetId: id, outcome: 'denied', details: { reason: outcome.reason } });
      }
      throw outcome.error;
    }
    await this.executor.execute(id, { id: actor.id, username: actor.username });
    return this.batch(id);
  }

  /** Withdraws a proposal that has not been approved (either officer); audited. */
  async cancel(actor: Actor, id: string): Promise<BatchView> {
    await this.tx.run(async (m) => {
      const batch = await this.repo.findBatch(m, id, true);
      if (!batch) throw DomainError.notFound('disposition batch');
      if (batch.state !== 'proposed') throw new DomainError(ErrorCode.Conflict, `The batch is ${batch.state}: only a proposal can be cancelled.`);
      await this.repo.cancel(m, id, this.clock.now());
      await this.audit.append(m, { actor, action: 'disposition.cancel', targetType: 'DispositionBatch', targetId: id, outcome: 'allowed', details: { proposedBy: batch.proposedByName } });
    });
    return this.batch(id);
  }

  async batch(id: string): Promise<BatchView> {
    const m = this.tx.outside;
    const b = await this.repo.findBatch(m, id);
    if (!b) throw DomainError.notFound('disposition batch');
    return batchView(b, await this.repo.items(m, id), (await this.repo.certificate(m, id)) !== null);
  }

  /** For a destroyed document's metadata: when, by which batch, and where its certificate is. */
  async tombstone(documentId: string): Promise<{ destroyedAt: string; batchId: string; certificate: string } | null> {
    const d = await this.repo.destructionOf(this.tx.outside, documentId);
    if (!d) return null;
    return { destroyedAt: d.destroyedAt.toISOString(), batchId: d.batchId, certificate: `/api/v1/disposition/batches/${d.batchId}/certificate` };
  }

  async signedCertificate(id: string): Promise<SignedCertificate> {
    const m = this.tx.outside;
    const b = await this.repo.findBatch(m, id);
    if (!b) throw DomainError.notFound('disposition batch');
    const row = await this.repo.certificate(m, id);
    if (!row) throw new DomainError(ErrorCode.NotFound, 'The batch has no certificate yet: it has not finished executing.');
    return {
      certificate: JSON.parse(row.certificate) as DeletionCertificate,
      signature: { algorithm: row.algorithm, keyId: row.keyId, value: row.signature },
    };
  }

  /** The stored, signed certificate as the canonical JSON file or its PDF rendering. */
  async certificate(actor: Actor, id: string, format: CertificateFormat): Promise<{ contentType: string; body: Buffer; filename: string }> {
    const signed = await this.signedCertificate(id);
    await this.audit.record({ actor, action: 'disposition.certificate.read', targetType: 'DispositionBatch', targetId: id, outcome: 'allowed', details: { format } });
    if (format === 'pdf') return { contentType: 'application/pdf', body: await renderCertificatePdf(signed), filename: `certificate-${id}.pdf` };
    return { contentType: 'application/json; charset=utf-8', body: Buffer.from(serializeSignedCertificate(signed), 'utf8'), filename: `certificate-${id}.json` };
  }
}
