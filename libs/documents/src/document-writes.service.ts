import { randomUUID } from 'node:crypto';
import { PassThrough, pipeline } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DocumentAccess, documentSubject, type AppAbility } from '@kura/access';
import { AuditService } from '@kura/audit';
import { classificationName, Clock, DomainError, ErrorCode } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { IntegrityError, KeyRingError } from '@kura/crypto';
import type { Actor } from '@kura/identity';
import { ContentIntents } from './content/content-intents';
import { ContentPipeline, StoredContent } from './content/content-pipeline';
import { Fields, MultipartBody, readMultipart } from './content/multipart-reader';
import { DocumentEntity } from './document.entity';
import { DocumentVersionEntity } from './document-version.entity';
import { documentView, DocumentView, ifMatchSatisfied, versionEtag } from './document.views';
import { DocumentsRepository } from './documents.repository';
import { PURPOSE_GATE, type PurposeGate } from './purpose-gate';
import { unknownSeries } from './documents.errors';
import { CreateDocumentDto, NewVersionDto } from './dto/create-document.dto';
import { validateFields } from './dto/multipart-fields';
import { assertWritable } from './lifecycle/document-lifecycle';

const YEAR_MS = 365 * 24 * 3600 * 1000;
const CREATE_FIELDS = ['title', 'kind', 'classification', 'department', 'tags', 'personalData', 'seriesId', 'reviewDueAt'];

/**
 * The write path of content: a new document (its first version), a new version, a restore.
 * Each streams and encrypts first, then commits metadata, version row and audit event in one
 * transaction that re-checks the document under its row lock; an object written before a
 * failed commit is discarded.
 */
@Injectable()
export class DocumentWritesService {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly content: ContentPipeline,
    private readonly intents: ContentIntents,
    private readonly access: DocumentAccess,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
    @Inject(PURPOSE_GATE) private readonly purposes: PurposeGate,
  ) {}

  async create(actor: Actor, upload: MultipartBody): Promise<DocumentView> {
    const ability = this.access.ability(actor);
    const documentId = randomUUID();
    let stored: StoredContent | undefined;
    let fields: Fields;
    try {
      const result = await readMultipart(upload, { maxFileBytes: this.config.maxUploadBytes, idleTimeoutMs: this.config.uploadIdleTimeoutMs }, async (file, soFar) => {
        // Fields sent before the file are checked before a byte is stored.
        if (['title', 'kind', 'classification', 'department', 'personalData'].every((f) => soFar.has(f))) {
          await this.authorizeCreate(actor, ability, documentId, this.parseCreate(soFar));
        }
        stored = await this.content.storeContent(documentId, file);
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
      // The version's transaction also fulfils the upload's intent (in the same statement as the
      // rows, one round trip); a lost COMMIT reply is looked up.
      await this.intents.commitFulfilling(content.storageKey, async (m) => {
        const fulfilled = await this.repo.insertDocumentWithVersion(m, doc, version).catch(unknownSeries);
        if (!fulfilled) return { value: undefined, fulfilled };
        await this.audit.append(m, {
          actor,
          action: 'document.create',
          targetType: 'Document',
          targetId: documentId,
          outcome: 'allowed',
          details: { version: 1, classification: classificationName(doc.classification), personalData: doc.personalData, department: doc.department, sha256: content.sha256, size: content.size },
        });
        return { value: undefined, fulfilled };
      });
      return documentView(doc, content);
    } catch (err) {
      // Fail closed: an object written before a failed metadata commit is never left behind
      // (unless its COMMIT may have succeeded: then the reconciler decides).
      if (stored) await this.content.discard(stored.storageKey, err);
      throw (await this.content.operationalFault(actor, 'document.create', documentId, 1, err)) ?? err;
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

  async addVersion(actor: Actor, id: string, ifMatch: string | undefined, upload: MultipartBody): Promise<{ document: DocumentView; etag: string }> {
    if (!ifMatch) throw new DomainError(ErrorCode.PreconditionRequired, 'Send If-Match with the ETag of the version you are replacing.');
    const doc = await this.access.require<DocumentEntity>(actor, id, 'version', 'document.version');
    const purpose = await this.purposes.requirePurpose(actor, doc, 'document.version');
    assertWritable(doc.status);
    if (!ifMatchSatisfied(ifMatch, doc.currentVersion)) throw this.stale(doc.currentVersion);
    let stored: StoredContent | undefined;
    try {
      const { fields } = await readMultipart(upload, { maxFileBytes: this.config.maxUploadBytes, maxFields: 5, idleTimeoutMs: this.config.uploadIdleTimeoutMs }, async (file) => {
        stored = await this.content.storeContent(id, file);
        return stored;
      });
      if (!stored) throw DomainError.validation('The file part is missing.', [{ field: 'file', messages: ['file is required'] }]);
      const dto = validateFields(NewVersionDto, fields, ['comment']);
      const content = stored;
      return await this.intents.commit(content.storageKey, async (m) => {
        const locked = await this.repo.lockById(m, id);
        if (!locked) throw DomainError.notFound('document');
        // Re-checked under the row lock: a disposition that started while the upload streamed wins.
        assertWritable(locked.status);
        // Of two writers holding the same ETag, one gets 412.
        if (!ifMatchSatisfied(ifMatch, locked.currentVersion)) throw this.stale(locked.currentVersion);
        const now = this.clock.now();
        const number = locked.currentVersion + 1;
        await this.repo.insertVersion(m, this.versionRow(id, number, content, actor, now, dto.comment ?? null, null));
        await this.repo.setCurrentVersion(m, id, number, now);
        await this.audit.append(m, { actor, action: 'document.version', targetType: 'Document', targetId: id, outcome: 'allowed', details: { version: number, sha256: content.sha256, size: content.size, ...purpose } });
        return { document: documentView({ ...locked, currentVersion: number, updatedAt: now }, content), etag: versionEtag(number) };
      });
    } catch (err) {
      if (stored) await this.content.discard(stored.storageKey, err);
      throw (await this.content.operationalFault(actor, 'document.version', id, doc.currentVersion + 1, err)) ?? err;
    }
  }

  async restore(actor: Actor, id: string, number: number, ifMatch: string | undefined): Promise<{ document: DocumentView; etag: string }> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'version', 'document.restore');
    const purpose = await this.purposes.requirePurpose(actor, doc, 'document.restore');
    assertWritable(doc.status);
    if (ifMatch && !ifMatchSatisfied(ifMatch, doc.currentVersion)) throw this.stale(doc.currentVersion);
    const source = await this.repo.findVersion(id, number);
    if (!source) throw DomainError.notFound('version');
    if (source.wrappedKey === null) throw new DomainError(ErrorCode.Gone, 'The content of this version has been destroyed.');
    // A new version needs its own key and version-bound chunks: re-encrypt, verifying as we read.
    let stored: StoredContent | undefined;
    let readError: unknown;
    try {
      const decryptor = this.content.openDecryptor(source);
      const raw = await this.content.openCiphertext(source);
      const plain = new PassThrough();
      pipeline(raw, decryptor, plain, (e) => {
        if (e) readError = e;
      });
      stored = await this.content.storeContent(id, { stream: plain, filename: source.originalFilename, declaredType: source.mediaType });
    } catch (caught) {
      const err = readError ?? caught;
      const fault = await this.content.operationalFault(actor, 'document.restore', id, number, err);
      if (fault) throw fault;
      if (err instanceof IntegrityError || err instanceof KeyRingError) {
        await this.content.integrityFailed(actor, id, number, err);
        throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
      }
      throw err;
    }
    const content = stored;
    try {
      return await this.intents.commit(content.storageKey, async (m) => {
        const locked = await this.repo.lockById(m, id);
        if (!locked) throw DomainError.notFound('document');
        assertWritable(locked.status);
        if (ifMatch && !ifMatchSatisfied(ifMatch, locked.currentVersion)) throw this.stale(locked.currentVersion);
        const now = this.clock.now();
        const next = locked.currentVersion + 1;
        await this.repo.insertVersion(m, this.versionRow(id, next, content, actor, now, `restored from version ${number}`, number));
        await this.repo.setCurrentVersion(m, id, next, now);
        await this.audit.append(m, { actor, action: 'document.restore', targetType: 'Document', targetId: id, outcome: 'allowed', details: { from: number, version: next, sha256: content.sha256, ...purpose } });
        return { document: documentView({ ...locked, currentVersion: next, updatedAt: now }, content), etag: versionEtag(next) };
      });
    } catch (err) {
      await this.content.discard(content.storageKey, err);
      throw err;
    }
  }

  private stale(current: number): DomainError {
    return new DomainError(ErrorCode.PreconditionFailed, 'The document has changed since you read it.', { currentETag: versionEtag(current) });
  }
}
