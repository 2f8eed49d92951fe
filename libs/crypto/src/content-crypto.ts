import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DATA_KEY_BYTES, DecryptStream, DEFAULT_CHUNK_SIZE, EncryptStream, NONCE_PREFIX_BYTES } from './chunked-aead';
import { KeyRing, WrappedKey } from './key-ring';

/** What a version row records so its content can be decrypted later (never the plain data key). */
export interface VersionKeyRecord {
  kekId: string;
  wrappedKey: Buffer;
  noncePrefix: Buffer;
  chunkSize: number;
}

export interface VersionEncryption {
  record: VersionKeyRecord;
  encryptor: EncryptStream;
}

/** Per-version content keys: fresh random data key, wrapped under the active KEK. */
@Injectable()
export class ContentCrypto {
  constructor(private readonly keys: KeyRing) {}

  /** A fresh 256-bit data key for one version and the stream that encrypts under it. */
  encryptVersion(versionId: string, chunkSize = DEFAULT_CHUNK_SIZE): VersionEncryption {
    const key = randomBytes(DATA_KEY_BYTES);
    const noncePrefix = randomBytes(NONCE_PREFIX_BYTES);
    const wrapped = this.keys.wrap(key, versionId);
    const encryptor = new EncryptStream({ key, noncePrefix, versionId, chunkSize });
    return { record: { kekId: wrapped.kekId, wrappedKey: wrapped.wrapped, noncePrefix, chunkSize }, encryptor };
  }

  /** Throws KeyRingError when the wrapped key does not open (wrong version, erased, tampered). */
  decryptVersion(versionId: string, record: VersionKeyRecord, expectedSha256?: string): DecryptStream {
    const key = this.keys.unwrap({ kekId: record.kekId, wrapped: record.wrappedKey }, versionId);
    return new DecryptStream({ key, noncePrefix: record.noncePrefix, versionId, chunkSize: record.chunkSize }, expectedSha256);
  }

  /** Rotation: same data key, new KEK; content is not touched. */
  rewrap(versionId: string, current: WrappedKey): WrappedKey {
    const key = this.keys.unwrap(current, versionId);
    try {
      return this.keys.wrap(key, versionId);
    } finally {
      key.fill(0);
    }
  }
}
