import { createCipheriv, createDecipheriv, createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

export const DATA_KEY_BYTES = 32;
export const NONCE_PREFIX_BYTES = 8;
export const TAG_BYTES = 16;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const AAD_LABEL = Buffer.from('kura.chunk.v1', 'ascii');

/** What a version's content key is bound to: the AAD and nonce of every chunk derive from it. */
export interface ChunkParams {
  key: Buffer;
  /** Random per version; the chunk counter fills the rest of the 96-bit nonce. */
  noncePrefix: Buffer;
  /** The version id (UUID): binds every chunk to its version. */
  versionId: string;
  chunkSize: number;
}

/** Thrown when a chunk fails authentication: the content was altered, reordered, truncated or extended. */
export class IntegrityError extends Error {
  constructor(readonly chunkIndex: number) {
    super(`chunk ${chunkIndex} failed authentication`);
    this.name = 'IntegrityError';
  }
}

function validate(p: ChunkParams): void {
  if (p.key.length !== DATA_KEY_BYTES) throw new RangeError('data key must be 32 bytes');
  if (p.noncePrefix.length !== NONCE_PREFIX_BYTES) throw new RangeError(`nonce prefix must be ${NONCE_PREFIX_BYTES} bytes`);
  if (!Number.isInteger(p.chunkSize) || p.chunkSize < 16 || p.chunkSize > 64 * 1024 * 1024) throw new RangeError('chunk size out of range');
}

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError('version id must be a UUID');
  return Buffer.from(hex, 'hex');
}

function nonceFor(prefix: Buffer, index: number): Buffer {
  // Counter nonces are safe because every version has a fresh key (SPEC §7).
  if (index > 0xffffffff) throw new RangeError('too many chunks for one version');
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  return nonce;
}

/** Version id, chunk index and final flag: a chunk moved, reordered, dropped or appended fails. */
function aadFor(version: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(AAD_LABEL.length + 16 + 4 + 1);
  AAD_LABEL.copy(aad, 0);
  version.copy(aad, AAD_LABEL.length);
  aad.writeUInt32BE(index, AAD_LABEL.length + 16);
  aad[aad.length - 1] = final ? 1 : 0;
  return aad;
}

/** Size of the stored object for a plaintext of `size` bytes (always at least one, final, chunk). */
export function encryptedSize(size: number, chunkSize: number): number {
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  return size + chunks * TAG_BYTES;
}

/**
 * A fixed-capacity accumulator: holds at most one chunk, so memory stays flat
 * whatever the stream length.
 */
class ChunkBuffer {
  // Allocated on first use and sized to what arrives, so a 4 KiB file does not cost 1 MiB.
  private buf?: Buffer;
  /** Once a chunk has filled up, the stream is large: allocate whole chunks from then on. */
  private large = false;
  filled = 0;
  constructor(readonly capacity: number) {}
  get full(): boolean {
    return this.filled === this.capacity;
  }
  /** Copies as much of `data` as fits; returns the bytes taken. */
  fill(data: Buffer, from: number): number {
    const take = Math.min(this.capacity - this.filled, data.length - from);
    if (!this.buf || this.buf.length < this.filled + take) {
      const size = this.large ? this.capacity : Math.min(this.capacity, Math.max(this.filled + take, (this.buf?.length ?? 0) * 2, 64 * 1024));
      const grown = Buffer.allocUnsafe(size);
      if (this.buf) this.buf.copy(grown, 0, 0, this.filled);
      this.buf = grown;
    }
    data.copy(this.buf, this.filled, from, from + take);
    this.filled += take;
    return take;
  }
  /** Hands the filled bytes over without copying; the next chunk gets a fresh buffer. */
  take(): Buffer {
    const out = this.reuse();
    this.buf = undefined;
    return out;
  }
  /**
   * The filled bytes, and the buffer is kept for the next chunk: the caller must be done with
   * them before it fills again. Saves a chunk-sized allocation (and the garbage collection it
   * costs) per chunk on a large stream.
   */
  reuse(): Buffer {
    if (this.filled === this.capacity) this.large = true;
    const out = this.buf ? this.buf.subarray(0, this.filled) : Buffer.alloc(0);
    this.filled = 0;
    return out;
  }
}

/**
 * What both directions share: the chunk parameters, one accumulator of `sealedSize` bytes, the
 * chunk counter, and the SHA-256 and size of the plaintext (known once the stream has ended).
 */
abstract class ChunkedAeadStream extends Transform {
  protected readonly pending: ChunkBuffer;
  protected readonly version: Buffer;
  protected readonly hash: Hash = createHash('sha256');
  protected index = 0;
  protected bytes = 0;
  protected digest?: string;

  constructor(
    protected readonly params: ChunkParams,
    accumulate: number,
  ) {
    // Buffer a chunk's worth on each side: 16 KiB-64 KiB defaults would stall the pipeline
    // on every small write.
    super({ highWaterMark: Math.min(Math.max(params.chunkSize, 64 * 1024), 8 * 1024 * 1024) });
    validate(params);
    this.version = uuidBytes(params.versionId);
    this.pending = new ChunkBuffer(accumulate);
  }

  get sha256(): string {
    if (this.digest === undefined) throw new Error('the stream has not finished');
    return this.digest;
  }

  get plaintextSize(): number {
    return this.bytes;
  }
}

/**
 * AES-256-GCM in authenticated chunks (each its own nonce and tag). A chunk is emitted only
 * once a later byte proves it is not the last, so the final flag is always right. The
 * SHA-256 and size of the plaintext are available after the stream ends.
 */
export class EncryptStream extends ChunkedAeadStream {
  constructor(params: ChunkParams) {
    super(params, params.chunkSize);
  }

  override _transform(data: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      this.hash.update(buf);
      this.bytes += buf.length;
      let at = 0;
      while (at < buf.length) {
        // seal() is done with the plaintext when it returns (the ciphertext is a new buffer).
        if (this.pending.full) this.seal(this.pending.reuse(), false);
        at += this.pending.fill(buf, at);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.seal(this.pending.take(), true);
      this.digest = this.hash.digest('hex');
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private seal(plain: Buffer, final: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.params.key, nonceFor(this.params.noncePrefix, this.index), { authTagLength: TAG_BYTES });
    cipher.setAAD(aadFor(this.version, this.index, final));
    const body = cipher.update(plain);
    cipher.final();
    // Body and tag go out as they are: downstream regroups into parts anyway, so joining
    // them here would copy every byte once more.
    this.push(body);
    this.push(cipher.getAuthTag());
    this.index++;
  }
}

/**
 * The inverse of EncryptStream. Plaintext of a chunk is released only after its tag
 * verifies, so a tampered object never yields unauthenticated bytes; any failure errors
 * the stream with IntegrityError.
 */
export class DecryptStream extends ChunkedAeadStream {
  /** `expectedSha256`: the final chunk is withheld unless the whole plaintext hashes to it. */
  constructor(
    params: ChunkParams,
    private readonly expectedSha256?: string,
  ) {
    super(params, params.chunkSize + TAG_BYTES);
  }

  override _transform(data: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      const sealedSize = this.pending.capacity;
      let at = 0;
      while (at < buf.length) {
        // open() is done with the sealed bytes when it returns (the plaintext is a new buffer).
        if (this.pending.full) this.open(this.pending.reuse(), false);
        // A whole sealed chunk with bytes after it in this buffer is provably not the last:
        // open it in place instead of copying it into the accumulator.
        if (this.pending.filled === 0 && buf.length - at > sealedSize) {
          this.open(buf.subarray(at, at + sealedSize), false);
          at += sealedSize;
          continue;
        }
        at += this.pending.fill(buf, at);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      // Whatever remains must be the final chunk; nothing left means the end was cut off.
      const last = this.pending.take();
      if (last.length < TAG_BYTES) throw new IntegrityError(this.index);
      this.open(last, true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private open(sealed: Buffer, final: boolean): void {
    const body = sealed.subarray(0, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.params.key, nonceFor(this.params.noncePrefix, this.index), { authTagLength: TAG_BYTES });
    decipher.setAAD(aadFor(this.version, this.index, final));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = decipher.update(body);
      decipher.final();
    } catch {
      throw new IntegrityError(this.index);
    }
    this.hash.update(plain);
    this.bytes += plain.length;
    if (final) {
      this.digest = this.hash.digest('hex');
      if (this.expectedSha256 !== undefined && this.digest !== this.expectedSha256) throw new IntegrityError(this.index);
    }
    this.index++;
    this.push(plain);
  }
}
