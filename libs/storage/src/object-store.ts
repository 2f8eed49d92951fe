import { Readable, Transform } from 'node:stream';
import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Client } from 'minio';
import { metrics, unavailableDependency } from '@kura/common';
import { KuraConfig, type S3Settings } from '@kura/config';
import { DEFAULT_STORE_TIMEOUTS, ReaderStalledError, StoreStreamError, StoreTimeouts, TimeoutAgent, TimeoutHttpsAgent, withStoreDeadline } from './store-timeouts';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** S3 requires every multipart part but the last to be at least 5 MiB. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

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

  /** Streams `body` into `key`; memory stays bounded by the part size whatever the length. */
  async put(key: string, body: Readable | AsyncIterable<Buffer>, options: PutOptions = {}): Promise<StoredObject> {
    const partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, MIN_PART_SIZE);
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    const client = options.selfAuthenticating ? this.unsignedPayloadClient : this.client;
    // Sent parts come back here and are refilled: no fresh 8 MiB allocation (and GC) per part.
    const spare: Buffer[] = [];
    const parts = readParts(body, partSize, spare);

    const first = await parts.next();
    if (first.done) {
      await this.call('put', client.putObject(this.bucket, key, Buffer.alloc(0), 0, headers));
      return { key, size: 0, etag: (await this.call('stat', client.statObject(this.bucket, key))).etag };
    }
    const second = await parts.next();
    if (second.done) {
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
      const sending = new Set<Promise<void>>();
      let failed: unknown;
      const send = (buf: Buffer) => {
        const part = ++partNumber;
        size += buf.length;
        const p: Promise<void> = client
          .uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, buf)
          .then(
            (r) => {
              etags.push({ part, etag: r.etag });
              if (buf.length === partSize) spare.push(buf);
            },
            (err: unknown) => {
              failed ??= err;
            },
          )
          .finally(() => sending.delete(p));
        sending.add(p);
      };
      send(first.value);
      let current: IteratorResult<Buffer> = second;
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
 * shorter). Each part is filled in place, so a part costs its size once, not twice.
 */
export async function* readParts(body: Readable | AsyncIterable<Buffer>, partSize: number, spare: Buffer[] = []): AsyncGenerator<Buffer> {
  // `spare`: full-size parts the consumer is done with (sent), reused instead of allocated.
  const fresh = () => spare.pop() ?? Buffer.allocUnsafe(partSize);
  let part = fresh();
  let filled = 0;
  for await (const raw of body as AsyncIterable<Buffer | string>) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, partSize - filled);
      chunk.copy(part, filled, 0, take);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === partSize) {
        yield part;
        part = fresh();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
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
