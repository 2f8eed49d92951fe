import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@kura/common';
import { ContentCrypto } from '@kura/crypto';
import { ObjectStore } from '@kura/storage';
import { DocumentsRepository } from './documents.repository';

/**
 * Fixity (SPEC §3): re-reads a stored version, decrypting and authenticating every chunk,
 * and answers the SHA-256 of its plaintext for comparison with the record. Throws
 * IntegrityError / KeyRingError when the object or its key fails authentication.
 * Shape of the retention capability's `VersionDigester`.
 */
@Injectable()
export class VersionDigestService {
  constructor(
    private readonly repo: DocumentsRepository,
    private readonly store: ObjectStore,
    private readonly crypto: ContentCrypto,
  ) {}

  async sha256(versionId: string): Promise<string> {
    const v = await this.repo.findVersionById(versionId);
    if (!v) throw DomainError.notFound('version');
    if (v.wrappedKey === null) throw new DomainError(ErrorCode.Gone, 'The content of this version has been destroyed.');
    const decryptor = this.crypto.decryptVersion(v.id, { kekId: v.kekId, wrappedKey: v.wrappedKey, noncePrefix: v.noncePrefix, chunkSize: v.chunkSize });
    await pipeline(await this.store.get(v.storageKey), decryptor, new Writable({ write: (_c, _e, done) => done() }));
    return decryptor.sha256;
  }
}
