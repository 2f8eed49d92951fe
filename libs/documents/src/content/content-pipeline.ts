import { randomUUID } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { DomainError, ErrorCode, unavailableDependency } from '@kura/common';
import { ContentCrypto, IntegrityError, KeyRingError, VersionKeyRecord } from '@kura/crypto';
import type { Actor } from '@kura/identity';
import { ObjectStore } from '@kura/storage';
import type { DocumentEntity } from '../document.entity';
import type { DocumentVersionEntity } from '../document-version.entity';
import { ContentIntents } from './content-intents';
import { HeadSniffer } from './head-sniffer';
import type { UploadedFile } from './multipart-reader';
import { opensAsPdf } from './pdf-detection';

export interface StoredContent {
  versionId: string;
  storageKey: string;
  record: VersionKeyRecord;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
}

/**
 * The content pipeline: plaintext in → SHA-256 + chunked AES-256-GCM under a fresh data key
 * → object store, and back out, verifying every chunk. Knows nothing of who may do what.
 */
@Injectable()
export class ContentPipeline {
  private readonly logger = new Logger(ContentPipeline.name);

  constructor(
    private readonly objects: ObjectStore,
    private readonly crypto: ContentCrypto,
    private readonly audit: AuditService,
    private readonly intents: ContentIntents,
  ) {}

  /** Streams plaintext → SHA-256 + AES-256-GCM chunks → object store. Never buffered whole. */
  async storeContent(documentId: string, file: UploadedFile): Promise<StoredContent> {
    const versionId = randomUUID();
    const storageKey = `documents/${documentId}/${versionId}`;
    // Write-ahead intent: committed before the first byte, so a crash leaves a trail the reconciler follows.
    await this.intents.begin(storageKey, documentId);
    const { record, encryptor } = this.crypto.encryptVersion(versionId);
    const sniffer = new HeadSniffer();
    let streamError: Error | undefined;
    const sealed = pipeline(file.stream, sniffer, encryptor, (err) => {
      if (err) streamError = err;
    });
    try {
      // Sealed AES-GCM chunks: every read authenticates them, so no SigV4 payload hash.
      await this.objects.put(storageKey, sealed, { selfAuthenticating: true });
    } catch (err) {
      file.stream.destroy();
      if (unavailableDependency(err)) {
        // The store is down or frozen: answer now; the clean-up goes on in the background
        // (bounded by the store's timeouts), and what it cannot delete the reconciler will.
        void this.intents.abandon(storageKey);
        throw err;
      }
      await this.intents.abandon(storageKey);
      throw streamError ?? err;
    }
    if (streamError || file.stream.truncated) {
      await this.intents.abandon(storageKey);
      throw streamError ?? new DomainError(ErrorCode.PayloadTooLarge, 'The file is too large.');
    }
    if (encryptor.plaintextSize === 0) {
      await this.intents.abandon(storageKey);
      throw DomainError.validation('The file is empty.', [{ field: 'file', messages: ['file is empty'] }]);
    }
    // The label decision trusts the bytes, not the client's declared type.
    const declared = file.declaredType.toLowerCase();
    const isPdf = opensAsPdf({ head: sniffer.head, filename: file.filename, mediaType: declared });
    const mediaType = isPdf ? 'application/pdf' : !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(declared) ? 'application/octet-stream' : declared;
    return { versionId, storageKey, record, sha256: encryptor.sha256, size: encryptor.plaintextSize, mediaType, filename: file.filename };
  }

  /**
   * After a failed write: deletes what it stored unless its COMMIT may have succeeded
   * (ContentIntents decides; the reconciler handles the rest).
   */
  async discard(storageKey: string, err?: unknown): Promise<void> {
    await this.intents.abandon(storageKey, err);
  }

  /**
   * The object store (or database) is down or frozen: an operational fault, audited as such
   * and answered 503 — never `integrity.failed`, which means ciphertext or hash mismatch.
   * Returns the error to throw, or null when `err` is something else.
   */
  async operationalFault(actor: Actor | null, action: string, id: string, version: number, err: unknown): Promise<DomainError | null> {
    const dependency = unavailableDependency(err);
    if (!dependency) return null;
    this.logger.warn({ msg: 'operational fault', action, documentId: id, version, dependency, error: err instanceof Error ? err.message : String(err) });
    await this.audit
      .record({ actor, actorName: 'system', action, targetType: 'Document', targetId: id, outcome: 'failed', details: { version, reason: 'dependency-unavailable', dependency } })
      .catch(() => undefined);
    return new DomainError(ErrorCode.Unavailable, `The ${dependency === 'dependency' ? 'content store or database' : dependency} is unavailable; retry shortly.`);
  }

  openDecryptor(version: DocumentVersionEntity) {
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
  async readWhole(actor: Actor, doc: DocumentEntity, version: DocumentVersionEntity): Promise<Buffer> {
    try {
      const decryptor = this.openDecryptor(version);
      const source = await this.objects.get(version.storageKey);
      const parts: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        pipeline(source, decryptor, (err) => (err ? reject(err) : resolve()));
        decryptor.on('data', (c: Buffer) => parts.push(c));
      });
      return Buffer.concat(parts);
    } catch (err) {
      const fault = await this.operationalFault(actor, 'document.download', doc.id, version.number, err);
      if (fault) throw fault;
      await this.integrityFailed(actor, doc.id, version.number, err);
      throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
    }
  }

  async integrityFailed(actor: Actor | null, id: string, version: number, err: unknown): Promise<void> {
    const integrity = err instanceof IntegrityError || err instanceof KeyRingError;
    if (!integrity && (err as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
    this.logger.error({ msg: integrity ? 'integrity check failed' : 'content stream failed', documentId: id, version, errorName: err instanceof Error ? err.name : typeof err });
    if (!integrity) return;
    await this.audit
      .record({ actor, actorName: 'system', action: 'integrity.failed', targetType: 'Document', targetId: id, outcome: 'failed', details: { version, chunk: err instanceof IntegrityError ? err.chunkIndex : null } })
      .catch((e: unknown) => this.logger.error({ msg: 'could not audit an integrity failure', error: e instanceof Error ? e.message : String(e) }));
  }

  /** The stored ciphertext of a version (decrypt it with openDecryptor). */
  openCiphertext(version: DocumentVersionEntity): Promise<Readable> {
    return this.objects.get(version.storageKey);
  }
}
