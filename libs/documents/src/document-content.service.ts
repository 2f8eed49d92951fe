import { PassThrough, pipeline, Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DocumentAccess } from '@kura/access';
import { AuditService } from '@kura/audit';
import { classificationName, ClassificationName, Clock, DomainError, ErrorCode } from '@kura/common';
import { KuraConfig } from '@kura/config';
import { IntegrityError, KeyRingError } from '@kura/crypto';
import { TransactionRunner } from '@kura/database';
import type { Actor } from '@kura/identity';
import { ReaderStalledError } from '@kura/storage';
import { ContentPipeline } from './content/content-pipeline';
import { opensAsPdf } from './content/pdf-detection';
import { PdfStamper } from './content/pdf-stamper';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository } from './documents.repository';
import { PURPOSE_GATE, type PurposeGate } from './purpose-gate';

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

/** Why a classified PDF was not served: the audit's `reason`. */
function labelRefusal(err: unknown): string {
  const code = err instanceof DomainError ? err.code : undefined;
  return code === ErrorCode.UnprocessableContent ? 'pdf-limits-exceeded' : code === ErrorCode.Unavailable ? 'labelling-busy' : 'cannot-label';
}

/** Downloads: decrypted and verified on the fly; classified PDFs stamped with their label (A.5.13); audited before the first byte. */
@Injectable()
export class DocumentContentService {
  private readonly logger = new Logger(DocumentContentService.name);

  constructor(
    private readonly repo: DocumentsRepository,
    private readonly tx: TransactionRunner,
    private readonly content: ContentPipeline,
    private readonly access: DocumentAccess,
    private readonly audit: AuditService,
    private readonly stamper: PdfStamper,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
    @Inject(PURPOSE_GATE) private readonly purposes: PurposeGate,
  ) {}

  async download(actor: Actor, id: string, versionNumber?: number): Promise<ContentDownload> {
    const doc = await this.access.require<DocumentEntity>(actor, id, 'read_content', 'document.download');
    const purpose = await this.purposes.requirePurpose(actor, doc, 'document.download');
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
    const stamp = doc.classification > 0 && opensAsPdf({ filename: version.originalFilename, mediaType: version.mediaType });

    if (stamp) {
      // A.5.13: a classified PDF never leaves without its label. pdf-lib needs it whole, so cap it.
      if (version.size > this.config.pdfStampMaxBytes) {
        await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: 'too-large-to-label', size: version.size } });
        throw new DomainError(ErrorCode.PayloadTooLarge, `This classified PDF is larger than the labelling limit (${this.config.pdfStampMaxBytes} bytes) and cannot be served with its label.`);
      }
      const plain = await this.content.readWhole(actor, doc, version);
      const at = this.clock.now();
      const stamped = await this.stamper.stamp(plain, { classification: doc.classification, documentId: id, version: number, username: actor.username, at }).catch(async (err: unknown) => {
        await this.audit.record({ actor, action: 'document.download', targetType: 'Document', targetId: id, outcome: 'failed', details: { version: number, reason: labelRefusal(err) } });
        throw err;
      });
      await this.recordDownload(actor, doc, number, true, purpose);
      return { ...base, body: Readable.from([stamped]), size: stamped.length, stamped: true };
    }
    let decryptor: ReturnType<ContentPipeline['openDecryptor']>;
    let source: Readable;
    try {
      decryptor = this.content.openDecryptor(version);
      source = await this.content.openCiphertext(version);
    } catch (err) {
      const fault = await this.content.operationalFault(actor, 'document.download', id, number, err);
      if (fault) throw fault;
      // A key that does not unwrap or an object that is gone: fixity has failed; say so, send nothing.
      await this.content.integrityFailed(actor, id, number, err instanceof KeyRingError || err instanceof IntegrityError ? err : new IntegrityError(-1));
      throw new DomainError(ErrorCode.IntegrityFailed, 'The stored content failed its integrity check.');
    }
    // Audited before the first byte leaves (issue 4).
    await this.recordDownload(actor, doc, number, false, purpose);
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    pipeline(source, decryptor, out, (err) => {
      if (err) void this.streamFailed(actor, id, number, err);
    });
    return { ...base, body: out, size: version.size, stamped: false };
  }

  /**
   * A download failed after it was audited as allowed: the store went away mid-transfer (an
   * operational fault, audited as such), the ciphertext failed authentication (the integrity
   * alarm), or the client left or stopped reading (nothing to record).
   */
  private async streamFailed(actor: Actor, id: string, version: number, err: Error): Promise<void> {
    if (err instanceof ReaderStalledError) {
      // The client stopped reading for the store's idle timeout: its doing, cut like an abort.
      this.logger.log({ msg: 'download cut: the client stopped reading', documentId: id, version });
      return;
    }
    if (await this.content.operationalFault(actor, 'document.download', id, version, err)) return;
    await this.content.integrityFailed(actor, id, version, err);
  }

  private async recordDownload(actor: Actor, doc: DocumentEntity, version: number, stamped: boolean, purpose: { purpose?: string }): Promise<void> {
    await this.tx.run(async (m) => {
      await this.repo.touchAccessed(m, doc.id, this.clock.now());
      await this.audit.append(m, { actor, action: 'document.download', targetType: 'Document', targetId: doc.id, outcome: 'allowed', details: { version, classification: classificationName(doc.classification), stamped, ...purpose } });
    });
  }
}
