import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DocumentAccess } from '@kura/access';
import { AuditRepository, AuditService, type AuditEventView, type Page, type PagingQuery } from '@kura/audit';
import { classificationName, ClassificationName, Clock, csvRecord, DomainError, ErrorCode } from '@kura/common';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { documentView, DocumentView, versionEtag, versionView, VersionView } from './document.views';
import { DocumentListFilter, DocumentsRepository, InventoryRow } from './documents.repository';
import { InventoryQuery, ListDocumentsQuery } from './dto/list-documents.query';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import { DOCUMENT_TOMBSTONES, type DocumentTombstones } from './document-tombstones';
import { PURPOSE_GATE, type PurposeGate } from './purpose-gate';

export interface DocumentPage {
  items: DocumentView[];
  page: number;
  pageSize: number;
  /** Exact when `totalExact`; otherwise there are more than `total` matches (docs/documents.md). */
  total: number;
  totalExact: boolean;
  /** Pass as `after` for the next page (keyset); null on the last page. */
  nextCursor: string | null;
}

/** The document an access history is about: its title only for those who may read the document. */
export interface HistorySubject {
  id: string;
  kind: string;
  classification: ClassificationName;
  personalData: string;
  seriesId: string | null;
  status: string;
  title?: string;
  department?: string;
  /** SHA-256 of the title, for readers who may not see it (auditors of `specific` documents). */
  titleSha256?: string;
}

export type AccessHistoryPage = Page<AuditEventView> & { document: HistorySubject };

function historySubject(doc: DocumentEntity, readable: boolean): HistorySubject {
  const base = { id: doc.id, kind: doc.kind, classification: classificationName(doc.classification), personalData: doc.personalData, seriesId: doc.seriesId, status: doc.status };
  return readable ? { ...base, title: doc.title, department: doc.department } : { ...base, titleSha256: createHash('sha256').update(doc.title, 'utf8').digest('hex') };
}

export interface InventoryItem {
  id: string;
  title: string;
  kind: string;
  classification: ClassificationName;
  ownerId: string;
  department: string;
  personalData: string;
  seriesId: string | null;
  status: string;
  versions: number;
  size: number;
  totalSize: number;
  createdAt: string;
  lastAccessedAt: string | null;
}

const instant = (iso: string | undefined): Date | undefined => (iso === undefined ? undefined : new Date(iso));

/** An empty or reversed range is a mistake worth saying, not an empty page. */
function rangeInOrder(from: Date | undefined, to: Date | undefined, fromField: string, toField: string): void {
  if (from && to && from >= to) throw DomainError.validation(`${fromField} must be before ${toField}.`, [{ field: fromField, messages: [`${fromField} must be before ${toField}`] }]);
}


/** Reads of metadata: one document, ABAC-filtered lists (CASL as SQL), versions, access history, the inventory. */
@Injectable()
export class DocumentQueriesService {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly tx: TransactionRunner,
    private readonly access: DocumentAccess,
    private readonly audit: AuditService,
    private readonly events: AuditRepository,
    private readonly clock: Clock,
    @Inject(DOCUMENT_TOMBSTONES) private readonly tombstones: DocumentTombstones,
    @Inject(PURPOSE_GATE) private readonly purposes: PurposeGate,
  ) {}

  private async currentOf(doc: DocumentEntity): Promise<DocumentVersionEntity> {
    const v = await this.repo.findVersion(doc.id, doc.currentVersion);
    if (!v) throw new Error(`document ${doc.id} has no current version row`);
    return v;
  }

  async get(actor: Actor, id: string): Promise<{ document: DocumentView; etag: string }> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read', 'document.read');
    const purpose = await this.purposes.requirePurpose(actor, doc, 'document.read');
    const current = await this.currentOf(doc);
    await this.tx.run(async (m) => {
      await this.repo.touchAccessed(m, id, this.clock.now());
      await this.audit.append(m, { actor, action: 'document.read', targetType: 'Document', targetId: id, outcome: 'allowed', details: { version: doc.currentVersion, ...purpose } });
    });
    const view = documentView(doc, current);
    // The tombstone of a destroyed record links to its certificate of deletion.
    if (doc.status === 'destroyed') view.disposition = await this.tombstones.tombstone(id);
    return { document: view, etag: versionEtag(doc.currentVersion) };
  }

  async list(actor: Actor, query: ListDocumentsQuery): Promise<DocumentPage> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 20;
    const filter: DocumentListFilter = {
      q: query.q,
      kind: query.kind,
      classification: query.classification,
      department: query.department,
      tag: query.tag,
      reviewOverdueAt: query.reviewOverdue ? this.clock.now() : undefined,
      seriesId: query.seriesId,
      createdFrom: instant(query.createdFrom),
      createdTo: instant(query.createdTo),
      reviewDueFrom: instant(query.reviewDueFrom),
      reviewDueTo: instant(query.reviewDueTo),
    };
    rangeInOrder(filter.createdFrom, filter.createdTo, 'createdFrom', 'createdTo');
    rangeInOrder(filter.reviewDueFrom, filter.reviewDueTo, 'reviewDueFrom', 'reviewDueTo');
    // The same CASL rules that guard single access, as SQL: no page is filtered after loading.
    const access = this.access.filter(actor, 'read');
    if (query.after !== undefined && query.page !== undefined) throw DomainError.validation('Give either page or after, not both.', [{ field: 'after', messages: ['after cannot be combined with page'] }]);
    const after = query.after === undefined ? undefined : decodeListCursor(query.after);
    const { rows, total, totalExact, last } = await this.repo.list(access, filter, page, pageSize, after);
    const shownFilter = Object.fromEntries(Object.entries({ ...query, classification: query.classification === undefined ? undefined : classificationName(query.classification) }).filter(([, v]) => v !== undefined));
    await this.audit.record({ actor, action: 'document.list', targetType: 'Document', outcome: 'allowed', details: { filter: shownFilter, page, pageSize, total, totalExact, returned: rows.length } });
    return { items: rows.map((r) => documentView(r, r)), page, pageSize, total, totalExact, nextCursor: last && encodeListCursor(last) };
  }

  async listVersions(actor: Actor, id: string): Promise<{ items: VersionView[] }> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read', 'document.read');
    const purpose = await this.purposes.requirePurpose(actor, doc, 'document.read');
    const versions = await this.repo.listVersions(id);
    await this.audit.record({ actor, action: 'document.read', targetType: 'Document', targetId: id, outcome: 'allowed', details: { view: 'versions', ...purpose } });
    return { items: versions.map(versionView) };
  }

  /**
   * The audit events of one document, newest first, paged with a total. Owners, records
   * officers and auditors (`read_history`); auditors for `specific` documents too, which
   * they may not otherwise see: then the header names the document without its title.
   */
  async accessHistory(actor: Actor, id: string, query: PagingQuery): Promise<AccessHistoryPage> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read_history', 'document.history');
    const paging = { page: query.page ?? 1, pageSize: query.pageSize ?? 50 };
    const history = await this.events.findByTarget(id, paging);
    await this.audit.record({ actor, action: 'document.history', targetType: 'Document', targetId: id, outcome: 'allowed', details: { page: paging.page, returned: history.items.length, total: history.total } });
    return { document: historySubject(doc, this.access.can(actor, 'read', doc)), ...history };
  }

  async inventory(actor: Actor, query: InventoryQuery): Promise<InventoryItem[]> {
    const ability = this.access.ability(actor);
    const format = query.format ?? 'json';
    if (!ability.can('read', 'Inventory')) {
      await this.audit.record({ actor, action: 'report.inventory', targetType: 'Inventory', outcome: 'denied', details: { format } });
      throw new DomainError(ErrorCode.Forbidden, 'Only records officers and auditors may read the inventory.');
    }
    // Metadata only, and only what the reader may see: `specific` stays invisible here too.
    const rows = await this.repo.inventory(this.access.filter(actor, 'read'));
    await this.audit.record({ actor, action: 'report.inventory', targetType: 'Inventory', outcome: 'allowed', details: { format, count: rows.length } });
    return rows.map(inventoryItem);
  }
}

function inventoryItem(r: InventoryRow): InventoryItem {
  return {
    id: r.id,
    title: r.title,
    kind: r.kind,
    classification: classificationName(r.classification),
    ownerId: r.ownerId,
    department: r.department,
    personalData: r.personalData,
    seriesId: r.seriesId,
    status: r.status,
    versions: r.versions,
    size: Number(r.size),
    totalSize: Number(r.totalSize),
    createdAt: new Date(r.createdAt).toISOString(),
    lastAccessedAt: r.lastAccessedAt ? new Date(r.lastAccessedAt).toISOString() : null,
  };
}

const CSV_COLUMNS: Array<keyof InventoryItem> = ['id', 'title', 'kind', 'classification', 'ownerId', 'department', 'personalData', 'seriesId', 'status', 'versions', 'size', 'totalSize', 'createdAt', 'lastAccessedAt'];

/** RFC 4180, with spreadsheet formula prefixes neutralised (CSV injection): see csvCell. */
export function inventoryCsv(items: InventoryItem[]): string {
  return csvRecord(CSV_COLUMNS) + items.map((i) => csvRecord(CSV_COLUMNS.map((c) => i[c]))).join('');
}
