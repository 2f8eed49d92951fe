import { Readable, Transform } from 'node:stream';
import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Client } from 'minio';
import { metrics, unavailableDependency } from '@kura/common';
import { KuraConfig, type S3Settings } from '@kura/config';
import { DEFAULT_STORE_TIMEOUTS, ReaderStalledError, StoreStreamError, StoreTimeoutError, StoreTimeouts, TimeoutAgent, TimeoutHttpsAgent, withStoreDeadline } from './store-timeouts';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** S3 requires every multipart part but the last to be at least 5 MiB. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** The first allocation for a body of unknown length: small documents are most documents. */
const SMALL_PART_START = 64 * 1024;
/** A growing first part switches to a full part from the budget past this size. */
const SMALL_PART_MAX = 1024 * 1024;
/** Full-size part buffers of every upload of the process together (issue 14: RSS under 50 concurrent uploads). */
export const PART_BUFFER_BUDGET = 64 * 1024 * 1024;

/**
 * One budget of part buffers for the whole process. Concurrent uploads share it: memory stays
 * at the budget whatever their number, and an upload that finds it spent waits its turn (first
 * come, first served; its client is slowed by TCP backpressure). No deadlock: a buffer is held
 * only while it fills from its client or travels to the store, both bounded by timeouts. A
 * wait longer than `waitMs` fails the upload as the store being unavailable (503).
 */
export class PartBudget {
  private held = 0;
  private peak = 0;
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;
  private readonly queue: Array<{ size: number; grant: () => void }> = [];

  constructor(readonly budgetBytes: number) {}

  /** Whether `size` more bytes fit; a part larger than the whole budget still goes when nothing else is held. */
  private fits(size: number): boolean {
    return this.held === 0 || this.held + size <= this.budgetBytes;
  }

  async acquire(size: number, waitMs: number): Promise<Buffer> {
    if (this.queue.length === 0 && this.fits(size)) this.held += size;
    else {
      // Granted by release(), which reserves the bytes before waking us: nobody overtakes.
      await new Promise<void>((resolve, reject) => {
        const entry = { size, grant: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          this.queue.splice(this.queue.indexOf(entry), 1);
          reject(new StoreTimeoutError('part buffer', waitMs));
        }, waitMs);
        this.queue.push(entry);
      });
    }
    this.peak = Math.max(this.peak, this.held);
    const reused = this.idle.get(size)?.pop();
    if (reused) {
      this.idleBytes -= size;
      return reused;
    }
    // Held and idle buffers together stay within the budget: idle ones go first.
    for (const [len, list] of this.idle) {
      while (list.length && this.held + this.idleBytes > this.budgetBytes) {
        list.pop();
        this.idleBytes -= len;
      }
    }
    return Buffer.allocUnsafe(size);
  }

  release(buf: Buffer): void {
    this.held -= buf.length;
    // Kept for the next part (no fresh allocation and collection per part), within the budget.
    if (this.held + this.idleBytes + buf.length <= this.budgetBytes) {
      this.idle.set(buf.length, [...(this.idle.get(buf.length) ?? []), buf]);
      this.idleBytes += buf.length;
    }
    // First come, first served: wake waiters in order while they fit, their bytes reserved.
    while (this.queue.length && this.fits(this.queue[0].size)) {
      const next = this.queue.shift() as { size: number; grant: () => void };
      this.held += next.size;
      next.grant();
    }
  }

  stats(): { budgetBytes: number; heldBytes: number; peakHeldBytes: number; waiting: number } {
    return { budgetBytes: this.budgetBytes, heldBytes: this.held, peakHeldBytes: this.peak, waiting: this.queue.length };
  }
}

/** One per process: every ObjectStore instance (api, worker jobs) draws from it. */
const SHARED_PART_BUDGET = new PartBudget(PART_BUFFER_BUDGET);

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  /** The store's clock; set by list(). */
  lastModified?: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Bytes buffered before a part is sent. */
  partSize?: number;
  /** Parts sent at once; memory stays at about `partsInFlight + 1` parts per upload. */
  partsInFlight?: number;
  /**
   * The body authenticates itself (AES-GCM sealed chunks, verified on every read): SigV4's
   * payload hash would hash every byte a second time for nothing, so the request is signed
   * with `UNSIGNED-PAYLOAD` — what the client already does over TLS.
   */
  selfAuthenticating?: boolean;
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchObject';
}

/**
 * The object store. Uses only calls that MinIO and s3rver both implement: single PUT,
 * low-level multipart (initiate / upload part / complete / abort), GET (ranged), HEAD,
 * DELETE, ListObjects. Never the client's high-level multipart path, which calls
 * ListMultipartUploads (s3rver lacks it).
 */
@Injectable()
export class ObjectStore implements OnModuleInit {
  readonly bucket: string;
  private readonly client: Client;
  /** Same credentials; signs payloads as UNSIGNED-PAYLOAD (for self-authenticating bodies only). */
  private readonly unsignedPayloadClient: Client;
  readonly timeouts: StoreTimeouts;
  private readonly parts = SHARED_PART_BUDGET;

  constructor(@Inject(S3_SETTINGS) private readonly settings: S3Settings, @Optional() config?: KuraConfig) {
    this.bucket = settings.bucket;
    this.timeouts = config ? { connectMs: config.s3ConnectTimeoutMs, idleMs: config.s3IdleTimeoutMs, requestMs: config.s3RequestTimeoutMs } : DEFAULT_STORE_TIMEOUTS;
    // A frozen or unreachable store fails calls (→ 503) instead of hanging them.
    const transportAgent = settings.useSSL ? new TimeoutHttpsAgent(this.timeouts) : new TimeoutAgent(this.timeouts);
    const { endPoint, port, useSSL, accessKey, secretKey, region } = settings;
    this.client = new Client({ endPoint, port, useSSL, accessKey, secretKey, region, transportAgent });
    this.unsignedPayloadClient = new Client({ endPoint, port, useSSL, accessKey, secretKey, region, transportAgent });
    this.unsignedPayloadClient.enableSHA256 = false;
  }

  async onModuleInit(): Promise<void> {
    await this.ensureBucket();
  }

  async ensureBucket(): Promise<void> {
    if (!(await this.call('bucket check', this.client.bucketExists(this.bucket)))) {
      await this.call('make bucket', this.client.makeBucket(this.bucket, this.settings.region)).catch(async (err: unknown) => {
        // Another instance may have created it between the check and the call.
        if (!(await this.call('bucket check', this.client.bucketExists(this.bucket)))) throw err;
      });
    }
  }

  /** For readiness: answers within `timeoutMs` whatever the store does. */
  async ping(timeoutMs = this.timeouts.requestMs): Promise<boolean> {
    return withStoreDeadline('ping', timeoutMs, this.client.bucketExists(this.bucket));
  }

  private call<T>(what: string, work: Promise<T>): Promise<T> {
    return withStoreDeadline(what, this.timeouts.requestMs, work);
  }

  /** The process's part buffers (for tests and the bench): budget, held now, held at most, uploads waiting. */
  partBuffers(): ReturnType<PartBudget['stats']> {
    return this.parts.stats();
  }

  /**
   * Streams `body` into `key`. Memory stays bounded by the part size whatever the length, and
   * by the process-wide part budget whatever the number of concurrent uploads.
   */
  async put(key: string, body: Readable | AsyncIterable<Buffer>, options: PutOptions = {}): Promise<StoredObject> {
    const partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, MIN_PART_SIZE);
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    const client = options.selfAuthenticating ? this.unsignedPayloadClient : this.client;
    // Full parts come from the budget and go back to it once sent (refilled, not reallocated).
    const held = new Set<Buffer>();
    const allocate = async (size: number) => {
      const buf = await this.parts.acquire(size, this.timeouts.requestMs);
      held.add(buf);
      return buf;
    };
    const giveBack = (buf: Buffer) => {
      if (held.delete(buf)) this.parts.release(buf);
    };
    const sending = new Set<Promise<void>>();
    try {
      return await this.putParts(key, readParts(body, partSize, allocate), partSize, headers, client, options, sending, giveBack);
    } finally {
      // A part still travelling (after a failure) keeps its buffer until its request settles,
      // in the background: a frozen store must not hold the caller's answer.
      const travelling = [...sending];
      const releaseAll = () => {
        for (const buf of held) this.parts.release(buf);
        held.clear();
      };
      if (travelling.length === 0) releaseAll();
      else void Promise.allSettled(travelling).then(releaseAll);
    }
  }

  private async putParts(
    key: string,
    parts: AsyncGenerator<Buffer>,
    partSize: number,
    headers: Record<string, string>,
    client: Client,
    options: PutOptions,
    sending: Set<Promise<void>>,
    giveBack: (buf: Buffer) => void,
  ): Promise<StoredObject> {
    const first = await parts.next();
    if (first.done) {
      await this.call('put', client.putObject(this.bucket, key, Buffer.alloc(0), 0, headers));
      return { key, size: 0, etag: (await this.call('stat', client.statObject(this.bucket, key))).etag };
    }
    // Only the last part is short: a short first part is the whole body, one PutObject. (Not
    // reading ahead for a second part: holding two budget buffers before sending one could
    // deadlock uploads that each hold one.)
    if (first.value.length < partSize) {
      const info = await this.call('put', client.putObject(this.bucket, key, first.value, first.value.length, headers));
      metrics.storageBytes.inc({ direction: 'in' }, first.value.length);
      return { key, size: first.value.length, etag: info.etag };
    }

    const uploadId = await this.call('initiate multipart', client.initiateNewMultipartUpload(this.bucket, key, headers));
    try {
      const etags: { part: number; etag: string }[] = [];
      let size = 0;
      let partNumber = 0;
      // Up to `inFlight` parts travel while the next one is read: the source and the store
      // both stay busy, and memory is bounded by (inFlight + 1) parts whatever the length.
      const inFlight = Math.max(1, Math.min(options.partsInFlight ?? 3, 8));
      let failed: unknown;
      const send = (buf: Buffer) => {
        const part = ++partNumber;
        size += buf.length;
        const p: Promise<void> = client
          .uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, buf)
          .then(
            (r) => {
              etags.push({ part, etag: r.etag });
              giveBack(buf);
            },
            (err: unknown) => {
              failed ??= err;
            },
          )
          .finally(() => sending.delete(p));
        sending.add(p);
      };
      send(first.value);
      let current: IteratorResult<Buffer> = await parts.next();
      while (!current.done) {
        while (sending.size >= inFlight) await Promise.race(sending);
        if (failed !== undefined) throw failed;
        send(current.value);
        current = await parts.next();
      }
      await Promise.all(sending);
      if (failed !== undefined) throw failed;
      etags.sort((a, b) => a.part - b.part);
      const done = await this.call('complete multipart', client.completeMultipartUpload(this.bucket, key, uploadId, etags));
      metrics.storageBytes.inc({ direction: 'in' }, size);
      return { key, size, etag: done.etag };
    } catch (err) {
      const abort = this.call('abort multipart', client.abortMultipartUpload(this.bucket, key, uploadId)).catch(() => undefined);
      // A store that is down or frozen would hold the caller's answer for another request timeout: abort in the background.
      if (!unavailableDependency(err)) await abort;
      throw err;
    }
  }

  async get(key: string, range?: { offset: number; length?: number }): Promise<Readable> {
    // The deadline covers the answer's headers; the body is guarded by the socket idle timeout.
    const body = range ? await this.call('get', this.client.getPartialObject(this.bucket, key, range.offset, range.length)) : await this.call('get', this.client.getObject(this.bucket, key));
    return countedOut(body);
  }

  /** null when the object does not exist. */
  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await this.call('stat', this.client.statObject(this.bucket, key));
      return { key, size: s.size, etag: s.etag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Idempotent: deleting a missing object succeeds. */
  async delete(key: string): Promise<void> {
    await this.call('delete', this.client.removeObject(this.bucket, key));
  }

  async *list(prefix = ''): AsyncGenerator<StoredObject> {
    const stream = this.client.listObjects(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string; size: number; etag: string; lastModified?: Date }>) {
      if (item.name) yield { key: item.name, size: item.size, etag: item.etag, lastModified: item.lastModified };
    }
  }
}

/**
 * Regroups any chunk stream into parts of exactly `partSize` bytes (the last may be
 * shorter). Each part is filled in place, so a part costs its size once, not twice. The first
 * part starts small and grows as bytes arrive, so a 4 KiB body costs 64 KiB, not `partSize`
 * (an 8 MiB allocation per small document was most of its garbage collection); past 1 MiB
 * the body is large and whole parts come from `allocate` (the process's part budget).
 */
export async function* readParts(
  body: Readable | AsyncIterable<Buffer>,
  partSize: number,
  allocate: (size: number) => Promise<Buffer> = async (size) => Buffer.allocUnsafe(size),
): AsyncGenerator<Buffer> {
  // Once a part has filled up, the body is large: whole parts from then on.
  let large = false;
  let part: Buffer | undefined;
  let filled = 0;
  const room = async (need: number): Promise<Buffer> => {
    if (part && part.length >= need) return part;
    const grow = Math.max(need, (part?.length ?? 0) * 2, SMALL_PART_START);
    const grown = large || grow > SMALL_PART_MAX || grow >= partSize ? await allocate(partSize) : Buffer.allocUnsafe(grow);
    if (part) part.copy(grown, 0, 0, filled);
    return (part = grown);
  };
  for await (const raw of body as AsyncIterable<Buffer | string>) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, partSize - filled);
      chunk.copy(await room(filled + take), filled, 0, take);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === partSize) {
        yield part as Buffer;
        large = true;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (part && filled > 0) yield part.subarray(0, filled);
}

/**
 * The same bytes, counted into kura_storage_bytes_total{direction="out"} as they are read.
 * The body comes straight off the store's socket, so any error on it (a reset, a cut short
 * of Content-Length, the agent's idle timer) is the store's: it becomes a StoreStreamError,
 * which callers treat as "unavailable", never as an integrity failure — unless the reader
 * was holding the body back (ReaderStalledError). A reader that goes away destroys the body,
 * which releases the store's socket.
 */
function countedOut(body: Readable): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      metrics.storageBytes.inc({ direction: 'out' }, chunk.length);
      done(null, chunk);
    },
  });
  // Paused by pipe(): the reader downstream is the one holding the transfer back.
  body.once('error', (err: Error) => counter.destroy(body.isPaused() ? new ReaderStalledError(err) : new StoreStreamError(err)));
  counter.once('close', () => body.destroy());
  body.pipe(counter);
  return counter;
}
