import { Injectable } from '@nestjs/common';
import { DocumentAccess } from '@kura/access';
import { AuditService, AuditTrailService, type AuditEventView, type CheckpointView } from '@kura/audit';
import { classificationName, Clock, csvRecord, DomainError, ErrorCode } from '@kura/common';
import { SpecificDocuments } from '@kura/documents';
import { Designation, Role, type Actor } from '@kura/identity';
import { PurposesRepository } from '../purposes/purposes.repository';
import type { LedgerFormat, LedgerQuery } from './ledger.query';
import { renderLedgerPdf } from './ledger-pdf';

export type LedgerOperation = 'create' | 'read' | 'download' | 'version' | 'delete' | 'export';

/** Which audit actions are handling acts on a document, and as what. */
export const LEDGER_OPERATIONS: Readonly<Record<string, LedgerOperation>> = {
  'document.create': 'create',
  'document.read': 'read',
  'document.download': 'download',
  'document.version': 'version',
  'document.restore': 'version',
  'document.destroy': 'delete',
  'document.export': 'export',
};

export const OPERATION_JA: Readonly<Record<LedgerOperation, string>> = {
  create: '作成',
  read: '閲覧',
  download: 'ダウンロード',
  version: '版追加',
  delete: '削除',
  export: '出力',
};

export const OUTCOME_JA: Readonly<Record<string, string>> = { allowed: '許可', denied: '拒否', failed: '失敗' };

/** One handling act on a `specific` document, as the audit chain recorded it. */
export interface LedgerLine {
  seq: number;
  hash: string;
  at: string;
  actorId: string | null;
  actorName: string;
  documentId: string;
  department: string;
  classification: string;
  /** Only for readers who may read the document itself (its handlers); absent otherwise. */
  title?: string;
  operation: LedgerOperation;
  action: string;
  purpose: string | null;
  purposeName: { ja: string; en: string } | null;
  outcome: string;
  reason: string | null;
}

export interface Ledger {
  title: string;
  generatedAt: string;
  generatedBy: { id: string; username: string };
  from: string | null;
  to: string | null;
  department: string | null;
  /** The signed checkpoint the ledger was drawn against: every line is at or before it. */
  checkpoint: CheckpointView | null;
  count: number;
  items: LedgerLine[];
}

export interface LedgerExport {
  contentType: string;
  filename: string;
  body: Buffer;
}

/** A PDF is built in memory (about 1 ms a line): larger ledgers are exported as csv or json. */
export const LEDGER_PDF_MAX_LINES = 2_000;

export const LEDGER_TITLE = '特定個人情報 取扱状況記録 / My Number handling ledger';

export const LEDGER_CSV_COLUMNS: ReadonlyArray<[keyof LedgerLine | 'purposeNameJa' | 'checkpoint', string]> = [
  ['seq', '番号 / seq'],
  ['hash', 'ハッシュ / hash'],
  ['at', '日時 (UTC) / at'],
  ['actorId', '取扱者ID / actor id'],
  ['actorName', '取扱者 / actor'],
  ['documentId', '文書ID / document id'],
  ['department', '部署 / department'],
  ['classification', '区分 / classification'],
  ['title', '件名 / title'],
  ['operation', '操作 / operation'],
  ['purpose', '利用目的 / purpose'],
  ['purposeNameJa', '利用目的名 / purpose name'],
  ['outcome', '結果 / outcome'],
  ['reason', '理由 / reason'],
  ['checkpoint', '照合チェックポイント / drawn against checkpoint'],
];

const fileStamp = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

/**
 * The My Number handling ledger (特定個人情報の取扱状況の記録, PPC guideline): one line per
 * handling act on a `specific` document, drawn from the audit chain through the audit
 * capability's API (never its tables), against a checkpoint signed for the occasion, so every
 * line's seq and hash can be checked against the chain and an evidence bundle.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly trail: AuditTrailService,
    private readonly audit: AuditService,
    private readonly documents: SpecificDocuments,
    private readonly purposes: PurposesRepository,
    private readonly access: DocumentAccess,
    private readonly clock: Clock,
  ) {}

  /** Auditors, and the responsible officer (事務取扱責任者: a records officer designated as a My Number handler). */
  private mayReadLedger(actor: Actor): boolean {
    if (this.access.ability(actor).can('read', 'AuditEvent')) return true;
    return actor.roles.includes(Role.RecordsOfficer) && actor.designations.includes(Designation.MyNumberHandler);
  }

  async ledger(actor: Actor, q: LedgerQuery): Promise<Ledger> {
    const format: LedgerFormat = q.format ?? 'json';
    const requested = { format, from: q.from ?? null, to: q.to ?? null, department: q.department ?? null };
    const action = format === 'json' ? 'mynumber.ledger.read' : 'mynumber.ledger.export';
    if (!this.mayReadLedger(actor)) {
      await this.audit.record({ actor, action, targetType: 'MyNumberLedger', outcome: 'denied', details: requested });
      throw new DomainError(ErrorCode.Forbidden, 'Only auditors and the responsible officer (a records officer designated as a My Number handler) may read the handling ledger.');
    }
    const from = q.from === undefined ? undefined : new Date(q.from);
    const to = q.to === undefined ? undefined : new Date(q.to);
    if (from && to && from > to) throw DomainError.validation('from must not be after to.', [{ field: 'from', messages: ['from must not be after to'] }]);

    const generatedAt = this.clock.now();
    const checkpoint = await this.trail.signedHead();
    const docs = await this.documents.list(q.department);
    const byId = new Map(docs.map((d) => [d.id, { doc: d, showTitle: this.access.can(actor, 'read', d) }]));
    const names = new Map((await this.purposes.list()).map((p) => [p.code, { ja: p.nameJa, en: p.nameEn }]));
    const items: LedgerLine[] = [];
    if (checkpoint) {
      const events = this.trail.eventsAbout({ targetIds: [...byId.keys()], actions: Object.keys(LEDGER_OPERATIONS), from, to }, checkpoint.seq);
      for await (const batch of events) for (const e of batch) items.push(this.line(e, byId, names));
    }
    if (format === 'pdf' && items.length > LEDGER_PDF_MAX_LINES) {
      await this.audit.record({ actor, action, targetType: 'MyNumberLedger', outcome: 'failed', details: { ...requested, count: items.length, reason: 'too-many-lines-for-pdf', limit: LEDGER_PDF_MAX_LINES } });
      throw new DomainError(ErrorCode.PayloadTooLarge, `${items.length} lines match, more than the ${LEDGER_PDF_MAX_LINES} a PDF ledger may hold. Narrow the period or department, or export as csv or json.`);
    }
    // On the record before a line is returned (A.8.15: the watchers are watched).
    await this.audit.record({ actor, action, targetType: 'MyNumberLedger', outcome: 'allowed', details: { ...requested, count: items.length, checkpointSeq: checkpoint?.seq ?? null } });
    return {
      title: LEDGER_TITLE,
      generatedAt: generatedAt.toISOString(),
      generatedBy: { id: actor.id, username: actor.username },
      from: requested.from,
      to: requested.to,
      department: requested.department,
      checkpoint,
      count: items.length,
      items,
    };
  }

  async export(actor: Actor, q: LedgerQuery): Promise<LedgerExport> {
    const ledger = await this.ledger(actor, q);
    const stamp = fileStamp(new Date(ledger.generatedAt));
    if (q.format === 'pdf') return { contentType: 'application/pdf', filename: `mynumber-ledger-${stamp}.pdf`, body: await renderLedgerPdf(ledger) };
    return { contentType: 'text/csv; charset=utf-8', filename: `mynumber-ledger-${stamp}.csv`, body: Buffer.from(ledgerCsv(ledger), 'utf8') };
  }

  private line(e: AuditEventView, docs: Map<string, { doc: { department: string; classification: number; title: string }; showTitle: boolean }>, names: Map<string, { ja: string; en: string }>): LedgerLine {
    const found = docs.get(e.targetId as string);
    if (!found) throw new Error('a ledger event names a document outside the ledger');
    const purpose = typeof e.details.purpose === 'string' ? e.details.purpose : null;
    return {
      seq: e.seq,
      hash: e.hash,
      at: e.at,
      actorId: e.actorId,
      actorName: e.actorName,
      documentId: e.targetId as string,
      department: found.doc.department,
      classification: classificationName(found.doc.classification),
      ...(found.showTitle && { title: found.doc.title }),
      operation: LEDGER_OPERATIONS[e.action],
      action: e.action,
      purpose,
      purposeName: purpose === null ? null : (names.get(purpose) ?? null),
      outcome: e.outcome,
      reason: typeof e.details.reason === 'string' ? e.details.reason : null,
    };
  }
}

/** RFC 4180 with bilingual headers; every row names the signed checkpoint (seq:hash) the ledger was drawn against. */
export function ledgerCsv(l: Ledger): string {
  const checkpoint = l.checkpoint ? `${l.checkpoint.seq}:${l.checkpoint.hash}` : '';
  const header = csvRecord(LEDGER_CSV_COLUMNS.map(([, label]) => label));
  const rows = l.items.map((i) =>
    csvRecord(
      LEDGER_CSV_COLUMNS.map(([key]) => {
        if (key === 'purposeNameJa') return i.purposeName?.ja ?? '';
        if (key === 'checkpoint') return checkpoint;
        if (key === 'operation') return `${i.operation} / ${OPERATION_JA[i.operation]}`;
        if (key === 'outcome') return `${i.outcome} / ${OUTCOME_JA[i.outcome] ?? i.outcome}`;
        const v = i[key];
        return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : v;
      }),
    ),
  );
  return header + rows.join('');
}
