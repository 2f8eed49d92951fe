import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { DocumentAccess, documentSubject, type AppAbility } from '@kura/access';
import { AuditRepository, AuditService, type AuditEventView, type Page, type PagingQuery } from '@kura/audit';
import { classificationName, ClassificationName, Clock, csvRecord, DomainError, ErrorCode, FieldError } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { ContentCrypto, IntegrityError, KeyRingError, VersionKeyRecord } from '@kura/crypto';
import type { Actor } from '@kura/identity';
import { ObjectStore } from '@kura/storage';
import { HeadSniffer } from './content/head-sniffer';
import { Fields, MultipartBody, readMultipart, UploadedFile } from './content/multipart-reader';
import { PDF_MAGIC, PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { documentView, DocumentView, ifMatchSatisfied, versionEtag, versionView, VersionView } from './document.views';
import { DocumentListFilter, DocumentsRepository, InventoryRow } from './documents.repository';
import { CreateDocumentDto, NewVersionDto } from './dto/create-document.dto';
import { InventoryQuery, ListDocumentsQuery } from './dto/list-documents.query';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import { UpdateDocumentDto } from './dto/update-document.dto';
import { DOCUMENT_TOMBSTONES, type DocumentTombstones } from './document-tombstones';
import { SERIES_CHANGE_GUARD, type SeriesChangeGuard } from './series-change.guard';

const YEAR_MS = 365 * 24 * 3600 * 1000;
const CREATE_FIELDS = ['title', 'kind', 'classification', 'department', 'tags', 'personalData', 'seriesId', 'reviewDueAt'];

export interface StoredContent {
  versionId: string;
  storageKey: string;
  record: VersionKeyRecord;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
}

export interface ContentDownload {
  body: Readable;
  filename: string;
  mediaType: string;
  classification: ClassificationName;
  /** Known up front unless the body is streamed through the decryptor (then = plaintext size). */
  size: number;
  version: number;
  stamped: boolean;
}

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

/** The series foreign key (added by the retention migration) answers 400, not 500. */
function unknownSeries(err: unknown): never {
  const e = err as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
  const driver = e.driverError ?? e;
  if (driver.code === '23503' && driver.constraint === 'fk_documents_series') {
    throw DomainError.validation('seriesId names no series.', [{ field: 'seriesId', messages: ['seriesId names no series'] }]);
  }
  throw err;
}

function flatten(errors: ValidationError[]): FieldError[] {
  return errors.map((e) => ({ field: e.property, messages: Object.values(e.constraints ?? {}) }));
}

/** Multipart fields → a validated DTO, rejecting unknown fields like the JSON pipe does. */
function validateFields<T extends object>(cls: new () => T, fields: Fields, allowed: string[], repeatable: string[] = []): T {
  const unknown = [...fields.keys()].filter((k) => !allowed.includes(k));
  if (unknown.length) throw DomainError.validation('The request has unknown fields.', unknown.map((f) => ({ field: f.slice(0, 40), messages: [`property ${f.slice(0, 40)} should not exist`] })));
  const plain: Record<string, unknown> = {};
  for (const [k, v] of fields) {
    if (!repeatable.includes(k) && v.length > 1) throw DomainError.validation(`The field ${k} is given more than once.`, [{ field: k, messages: ['given more than once'] }]);
    plain[k] = repeatable.includes(k) ? v : v[0];
  }
  const dto = plainToInstance(cls, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length) throw DomainError.validation('The request has invalid fields.', flatten(errors));
  return dto;
}

/**
 * Classified documents: encrypted versioned content, ABAC on every access (the one CASL
 * policy, for single access and, translated to SQL, for lists) and an audit event for
 * every operation and every denial.
 */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);

  constructor(
    private readonly repo: DocumentsRepository,
    private readonly store: ObjectStore,
    private readonly crypto: ContentCrypto,
    private readonly audit: AuditService,
    private readonly access: DocumentAccess,
    private readonly events: AuditRepository,
    private readonly stamper: PdfStamper,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
    @Optional() @Inject(SERIES_CHANGE_GUARD) private readonly seriesGuard: SeriesChangeGuard | null = null,
    @Optional() @Inject(DOCUMENT_TOMBSTONES) private readonly tombstones: DocumentTombstones | null = null,
  ) {}

  // ---------------------------------------------------------------- create

  async create(actor: Actor, upload: MultipartBody): Promise<DocumentView> {
    const ability = this.access.ability(actor);
    const documentId = randomUUID();
    let stored: StoredContent | undefined;
    let fields: Fields;
    try {
      const result = await readMultipart(upload, { maxFileBytes: this.config.maxUploadBytes }, async (file, soFar) => {
        // Fields sent before the file are checked before a byte is stored.
        if (['title', 'kind', 'classification', 'department', 'personalData'].every((f) => soFar.has(f))) {
          await this.authorizeCreate(actor, ability, documentId, this.parseCreate(soFar));
        }
        stored = await this.storeContent(documentId, file);
        return stored;
      });
      fields = result.fields;
      if (!stored) throw DomainError.validation('The file part is missing.', [{ field: 'file', messages: ['file is required'] }]);
      const dto = this.parseCreate(fields);
      await this.authorizeCreate(actor, ability, documentId, dto);
      const now = this.clock.now();
      const doc = Object.assign(new DocumentEntity(), {
        id: documentId,
        title: dto.title,
        kind: dto.kind,
        classification: dto.classification,
        department: dto.department,
        ownerId: actor.id,
        tags: [...new Set(dto.tags ?? [])],
        personalData: dto.personalData ?? 'none',
        seriesId: dto.seriesId ?? null,
        status: 'active',
        reviewDueAt: dto.reviewDueAt ? new Date(dto.reviewDueAt) : dto.kind === 'record' ? null : new Date(now.getTime() + YEAR_MS),
        currentVersion: 1,
        createdAt: now,
        updatedAt: now,
        lastAccessedAt: null,
      } satisfies DocumentEntity);
      const version = this.versionRow(documentId, 1, stored, actor, now, null, null);
      const content = stored;
      await this.repo.transaction(async (m) => {
        await this.repo.insertDocument(m, doc).catch(unknownSeries);
        await this.repo.insertVersion(m, version);
        await this.audit.append(m, {
          actor,
          action: 'document.create',
          targetType: 'Document',
          targetId: documentId,
          outcome: 'allowed',
          details: { version: 1, classification: classificationName(doc.classification), personalData: doc.personalData, department: doc.department, sha256: content.sha256, size: content.size },
        });
      });
      return documentView(doc, content);
    } catch (err) {
      // Fail closed: an object written before a failed metadata commit is never left behind.
      if (stored) await this.discard(stored.storageKey);
      throw err;
    }
  }

  private parseCreate(fields: Fields): CreateDocumentDto {
    return validateFields(CreateDocumentDto, fields, CREATE_FIELDS, ['tags']);
  }

  private async authorizeCreate(actor: Actor, ability: AppAbility, documentId: string, dto: CreateDocumentDto): Promise<void> {
    const candidate = documentSubject({
      id: documentId,
      ownerId: actor.id,
      classification: dto.classification,
      department: dto.department,
      personalData: dto.personalData ?? 'none',
      kind: dto.kind,
      status: 'active',
      tags: dto.tags ?? [],
      seriesId: dto.seriesId ?? null,
    });
    if (ability.can('create', candidate)) return;
    await this.audit.record({
      actor,
      action: 'document.create',
      targetType: 'Document',
      outcome: 'denied',
      details: { classification: classificationName(dto.classification), department: dto.department, personalData: dto.personalData ?? 'none' },
    });
    throw new DomainError(ErrorCode.Forbidden, 'You may not create a document with this classification, department or marking.');
  }

  /** Streams plaintext → SHA-256 + AES-256-GCM chunks → object store. Never buffered whole. */
  private async storeContent(documentId: string, file: UploadedFile): Promise<StoredContent> {
    const versionId = randomUUID();
    const storageKey = `documents/${documentId}/${versionId}`;
    const { record, encryptor } = this.crypto.encryptVersion(versionId);
    const sniffer = new HeadSniffer();
    let streamError: Error | undefined;
    const sealed = pipeline(file.stream, sniffer, encryptor, (err) => {
      if (err) streamError = err;
    });
    try {
      // Sealed AES-GCM chunks: every read authenticates them, so no SigV4 payload hash.
      await this.store.put(storageKey, sealed, { selfAuthenticating: true });
    } catch (err) {
      file.stream.destroy();
      await this.discard(storageKey);
      throw streamError ?? err;
    }
    if (streamError || file.stream.truncated) {
      await this.discard(storageKey);
      throw streamError ?? new DomainError(ErrorCode.PayloadTooLarge, 'The file is too large.');
    }
    if (encryptor.plaintextSize === 0) {
      await this.discard(storageKey);
      throw DomainError.validation('The file is empty.', [{ field: 'file', messages: ['file is empty'] }]);
    }
    // The label decision trusts the bytes, not the client's declared type.
    const isPdf = sniffer.startsWith(PDF_MAGIC);
    const declared = file.declaredType.toLowerCase();
    const mediaType = isPdf ? 'application/pdf' : declared === 'application/pdf' || !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(declared) ? 'application/octet-stream' : declared;
    return { versionId, storageKey, record, sha256: encryptor.sha256, size: encryptor.plaintextSize, mediaType, filename: file.filename };
  }

  private versionRow(documentId: string, number: number, c: StoredContent, actor: Actor, at: Date, comment: string | null, restoredFrom: number | null): DocumentVersionEntity {
    return Object.assign(new DocumentVersionEntity(), {
      id: c.versionId,
      documentId,
      number,
      size: c.size,
      sha256: c.sha256,
      mediaType: c.mediaType,
      originalFilename: c.filename,
      authorId: actor.id,
      comment,
      createdAt: at,
      restoredFrom,
      storageKey: c.storageKey,
      wrappedKey: c.record.wrappedKey,
      kekId: c.record.kekId,
      noncePrefix: c.record.noncePrefix,
      chunkSize: c.record.chunkSize,
    } satisfies DocumentVersionEntity);
  }

  private async discard(storageKey: string): Promise<void> {
    await this.store.delete(storageKey).catch((err: unknown) => {
      this.logger.error({ msg: 'could not delete an orphaned object', storageKey, error: err instanceof Error ? err.message : String(err) });
    });
  }

  private async currentOf(doc: DocumentEntity): Promise<DocumentVersionEntity> {
    const v = await this.repo.findVersion(doc.id, doc.currentVersion);
    if (!v) throw new Error(`document ${doc.id} has no current version row`);
    return v;
  }

  // ---------------------------------------------------------------- read

  async get(actor: Actor, id: string): Promise<{ document: DocumentView; etag: string }> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read', 'document.read');
    const current = await this.currentOf(doc);
    await this.repo.transaction(async (m) => {
      await this.repo.touchAccessed(m, id, this.clock.now());
      await this.audit.append(m, { actor, action: 'document.read', targetType: 'Document', targetId: id, outcome: 'allowed', details: { version: doc.currentVersion } });
    });
    const view = documentView(doc, current);
    // The tombstone of a destroyed record links to its certificate of deletion.
    if (doc.status === 'destroyed' && this.tombstones) view.disposition = await this.tombstones.tombstone(id);
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
    };
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
    await this.access.require<DocumentEntity>(actor, id, 'read', 'document.read');
    const versions = await this.repo.listVersions(id);
    await this.audit.record({ actor, action: 'document.read', targetType: 'Document', targetId: id, outcome: 'allowed', details: { view: 'versions' } });
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

  // ---------------------------------------------------------------- content

  async download(actor: Actor, id: string, versionNumber?: number): Promise<ContentDownload> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read_content', 'document.download');
    const number = versionNumber ?? doc.currentVersion;
    const version = await this.repo.findVersion(id, number);
    if (!version) {
      await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: 'no-such-version' } });
      throw DomainError.notFound('version');
    }
    if (doc.status === 'destroyed' || version.wrappedKey === null) {
      await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: 'destroyed' } });
      throw new DomainError(ErrorCode.Gone, 'The content of this document has been destroyed.');
    }
    const classification = classificationName(doc.classification);
    const base = { filename: version.originalFilename, mediaType: version.mediaType, classification, version: number };
    const stamp = version.mediaType === 'application/pdf' && doc.classification > 0;

    if (stamp) {
      // A.5.13: a classified PDF never leaves without its label. pdf-lib needs it whole, so cap it.
      if (version.size > this.config.pdfStampMaxBytes) {
        await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: 'too-large-to-label', size: version.size } });
        throw new DomainError(ErrorCode.PayloadTooLarge, `This classified PDF is larger than the labelling limit (${this.config.pdfStampMaxBytes} bytes) and cannot be served with its label.`);
      }
      const plain = await this.readWhole(actor, doc, version);
      const at = this.clock.now();
      const stamped = await this.stamper.stamp(plain, { classification: doc.classification, documentId: id, version: number, username: actor.username, at }).catch(async (err: unknown) => {
        await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: 'cannot-label' } });
        throw err;
      });
      await this.recordDownload(actor, doc, number, true);
      return { ...base, body: Readable.from([stamped]), size: stamped.length, stamped: true };
    }
    let decryptor: ReturnType<DocumentsService['openDecryptor']>;
    let source: Readable;
    try {
      decryptor = this.openDecryptor(version);
      source = await this.store.get(version.storageKey);
    } catch (err) {
      // A key that does not unwrap or an object that is gone: fixity has failed; say so, send nothing.
      await this.integrityFailed(actor, id, number, err instanceof KeyRingError || err instanceof IntegrityError ? err : new IntegrityError(-1));
      throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
    }
    // Audited before the first byte leaves (issue 4).
    await this.recordDownload(actor, doc, number, false);
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    pipeline(source, decryptor, out, (err) => {
      if (err) void this.integrityFailed(actor, id, number, err);
    });
    return { ...base, body: out, size: version.size, stamped: false };
  }

  private openDecryptor(version: DocumentVersionEntity) {
    try {
      return this.crypto.decryptVersion(
        version.id,
        { kekId: version.kekId, wrappedKey: version.wrappedKey as Buffer, noncePrefix: version.noncePrefix, chunkSize: version.chunkSize },
        version.sha256,
      );
    } catch (err) {
      if (err instanceof KeyRingError) throw new IntegrityError(-1);
      throw err;
    }
  }

  /** Decrypts a whole version into memory (bounded by the caller) and verifies it. */
  private async readWhole(actor: Actor, doc: DocumentEntity, version: DocumentVersionEntity): Promise<Buffer> {
    try {
      const decryptor = this.openDecryptor(version);
      const source = await this.store.get(version.storageKey);
      const parts: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        pipeline(source, decryptor, (err) => (err ? reject(err) : resolve()));
        decryptor.on('data', (c: Buffer) => parts.push(c));
      });
      return Buffer.concat(parts);
    } catch (err) {
      await this.integrityFailed(actor, doc.id, version.number, err);
      throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
    }
  }

  private async recordDownload(actor: Actor, doc: DocumentEntity, version: number, stamped: boolean): Promise<void> {
    await this.repo.transaction(async (m) => {
      await this.repo.touchAccessed(m, doc.id, this.clock.now());
      await this.audit.append(m, { actor, action: 'document.download', targetType: 'Document', targetId: doc.id, outcome: 'allowed', details: { version, classification: classificationName(doc.classification), stamped } });
    });
  }

  private async integrityFailed(actor: Actor | null, id: string, version: number, err: unknown): Promise<void> {
    const integrity = err instanceof IntegrityError || err instanceof KeyRingError;
    if (!integrity && (err as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
    this.logger.error({ msg: integrity ? 'integrity check failed' : 'content stream failed', documentId: id, version, errorName: err instanceof Error ? err.name : typeof err });
    if (!integrity) return;
    await this.audit
      .record({ actor, actorName: 'system', action: 'integrity.failed', targetType: 'Document', targetId: id, outcome: 'failed', details: { version, chunk: err instanceof IntegrityError ? err.chunkIndex : null } })
      .catch((e: unknown) => this.logger.error({ msg: 'could not audit an integrity failure', error: e instanceof Error ? e.message : String(e) }));
  }

  // ---------------------------------------------------------------- versions

  async addVersion(actor: Actor, id: string, ifMatch: string | undefined, upload: MultipartBody): Promise<{ document: DocumentView; etag: string }> {
    if (!ifMatch) throw new DomainError(ErrorCode.PreconditionRequired, 'Send If-Match with the ETag of the version you are replacing.');
    const doc = await this.access.require<DocumentEntity>(actor, id, 'version', 'document.version');
    this.assertWritable(doc);
    if (!ifMatchSatisfied(ifMatch, doc.currentVersion)) throw this.stale(doc.currentVersion);
    let stored: StoredContent | undefined;
    try {
      const { fields } = await readMultipart(upload, { maxFileBytes: this.config.maxUploadBytes, maxFields: 5 }, async (file) => {
        stored = await this.storeContent(id, file);
        return stored;
      });
      if (!stored) throw DomainError.validation('The file part is missing.', [{ field: 'file', messages: ['file is required'] }]);
      const dto = validateFields(NewVersionDto, fields, ['comment']);
      const content = stored;
      return await this.repo.transaction(async (m) => {
        const locked = await this.repo.lockById(m, id);
        // Re-checked under the row lock: of two writers holding the same ETag, one gets 412.
        if (!locked || !ifMatchSatisfied(ifMatch, locked.currentVersion)) throw this.stale(locked?.currentVersion ?? doc.currentVersion);
        const now = this.clock.now();
        const number = locked.currentVersion + 1;
        await this.repo.insertVersion(m, this.versionRow(id, number, content, actor, now, dto.comment ?? null, null));
        await this.repo.setCurrentVersion(m, id, number, now);
        await this.audit.append(m, { actor, action: 'document.version', targetType: 'Document', targetId: id, outcome: 'allowed', details: { version: number, sha256: content.sha256, size: content.size } });
        return { document: documentView({ ...locked, currentVersion: number, updatedAt: now }, content), etag: versionEtag(number) };
      });
    } catch (err) {
      if (stored) await this.discard(stored.storageKey);
      throw err;
    }
  }

  async restore(actor: Actor, id: string, number: number, ifMatch: string | undefined): Promise<{ document: DocumentView; etag: string }> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'version', 'document.restore');
    this.assertWritable(doc);
    if (ifMatch && !ifMatchSatisfied(ifMatch, doc.currentVersion)) throw this.stale(doc.currentVersion);
    const source = await this.repo.findVersion(id, number);
    if (!source) throw DomainError.notFound('version');
    if (source.wrappedKey === null) throw new DomainError(ErrorCode.Gone, 'The content of this version has been destroyed.');
    // A new version needs its own key and version-bound chunks: re-encrypt, verifying as we read.
    let stored: StoredContent | undefined;
    let readError: unknown;
    try {
      const decryptor = this.openDecryptor(source);
      const raw = await this.store.get(source.storageKey);
      const plain = new PassThrough();
      pipeline(raw, decryptor, plain, (e) => {
        if (e) readError = e;
      });
      stored = await this.storeContent(id, { stream: plain, filename: source.originalFilename, declaredType: source.mediaType });
    } catch (caught) {
      const err = readError ?? caught;
      if (err instanceof IntegrityError || err instanceof KeyRingError) {
        await this.integrityFailed(actor, id, number, err);
        throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
      }
      throw err;
    }
    const content = stored;
    try {
      return await this.repo.transaction(async (m) => {
        const locked = await this.repo.lockById(m, id);
        if (!locked || (ifMatch && !ifMatchSatisfied(ifMatch, locked.currentVersion))) throw this.stale(locked?.currentVersion ?? doc.currentVersion);
        const now = this.clock.now();
        const next = locked.currentVersion + 1;
        await this.repo.insertVersion(m, this.versionRow(id, next, content, actor, now, `restored from version ${number}`, number));
        await this.repo.setCurrentVersion(m, id, next, now);
        await this.audit.append(m, { actor, action: 'document.restore', targetType: 'Document', targetId: id, outcome: 'allowed', details: { from: number, version: next, sha256: content.sha256 } });
        return { document: documentView({ ...locked, currentVersion: next, updatedAt: now }, content), etag: versionEtag(next) };
      });
    } catch (err) {
      await this.discard(content.storageKey);
      throw err;
    }
  }

  private assertWritable(doc: DocumentEntity): void {
    if (doc.status === 'destroyed') throw new DomainError(ErrorCode.Gone, 'This document has been destroyed.');
    if (doc.status === 'pending_disposition') throw new DomainError(ErrorCode.Conflict, 'This document is pending disposition and cannot change.');
  }

  private stale(current: number): DomainError {
    return new DomainError(ErrorCode.PreconditionFailed, 'The document has changed since you read it.', { currentETag: versionEtag(current) });
  }

  // ---------------------------------------------------------------- metadata

  async update(actor: Actor, id: string, dto: UpdateDocumentDto): Promise<{ document: DocumentView; etag: string }> {
    const ability = this.access.ability(actor);
    const changes = Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);
    if (changes.length === 0) throw DomainError.validation('Nothing to change.');
    const before = await this.access.require<DocumentEntity>(actor, id, 'read', 'document.update');
    const reclassify = dto.classification !== undefined && dto.classification !== before.classification;
    const others = changes.filter((k) => k !== 'classification');
    if (others.length && !ability.can('update', documentSubject(before))) {
      await this.audit.record({ actor, action: 'document.update', targetType: 'Document', targetId: id, outcome: 'denied', details: { fields: others } });
      throw new DomainError(ErrorCode.Forbidden, 'You may not change this document.');
    }
    if (reclassify) {
      const after = { ...before, classification: dto.classification as number };
      const downgrade = after.classification < before.classification;
      // Only the owner or a records officer reclassifies; only a records officer downgrades (issue 4).
      const allowed = ability.can('reclassify', documentSubject(before)) && ability.can('reclassify', documentSubject(after)) && (!downgrade || ability.can('downgrade', documentSubject(before)));
      if (!allowed) {
        await this.audit.record({ actor, action: 'document.reclassify', targetType: 'Document', targetId: id, outcome: 'denied', details: { from: classificationName(before.classification), to: classificationName(after.classification), downgrade } });
        throw new DomainError(ErrorCode.Forbidden, downgrade ? 'Only a records officer may lower a classification.' : 'Only the owner or a records officer may reclassify this document.');
      }
    }
    return this.repo.transaction(async (m) => {
      const locked = await this.repo.lockById(m, id);
      if (!locked) throw DomainError.notFound('document');
      if (locked.classification !== before.classification) throw new DomainError(ErrorCode.Conflict, 'The document was reclassified meanwhile; read it again.');
      if (dto.seriesId !== undefined && dto.seriesId !== locked.seriesId) await this.seriesGuard?.assertSeriesChangeAllowed(m, id, dto.seriesId);
      const now = this.clock.now();
      const patch = {
        ...(dto.title !== undefined && { title: dto.title }),
        ...(dto.tags !== undefined && { tags: [...new Set(dto.tags)] }),
        ...(dto.reviewDueAt !== undefined && { reviewDueAt: dto.reviewDueAt === null ? null : new Date(dto.reviewDueAt) }),
        ...(dto.seriesId !== undefined && { seriesId: dto.seriesId }),
        ...(reclassify && { classification: dto.classification }),
      };
      await this.repo.updateMetadata(m, id, patch, now).catch(unknownSeries);
      if (others.length) {
        await this.audit.append(m, { actor, action: 'document.update', targetType: 'Document', targetId: id, outcome: 'allowed', details: { fields: others } });
      }
      if (reclassify) {
        await this.audit.append(m, {
          actor,
          action: 'document.reclassify',
          targetType: 'Document',
          targetId: id,
          outcome: 'allowed',
          details: { from: classificationName(before.classification), to: classificationName(dto.classification as number), downgrade: (dto.classification as number) < before.classification },
        });
      }
      const updated = { ...locked, ...patch, updatedAt: now } as DocumentEntity;
      const current = await this.repo.findVersion(id, updated.currentVersion, m);
      return { document: documentView(updated, current as DocumentVersionEntity), etag: versionEtag(updated.currentVersion) };
    });
  }

  // ---------------------------------------------------------------- inventory

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
