import { Readable } from 'node:stream';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Client } from 'minio';
import type { S3Settings } from '@kura/config';

export const S3_SETTINGS = Symbol('S3_SETTINGS');

/** S3 requires every multipart part but the last to be at least 5 MiB. */
const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface StoredObject {
  key: string;
  size: number;
  etag: string;
}

export interface PutOptions {
  contentType?: string;
  /** Bytes buffered before a part is sent: memory stays at about two parts per upload. */
  partSize?: number;
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

  constructor(@Inject(S3_SETTINGS) private readonly settings: S3Settings) {
    this.bucket = settings.bucket;
    this.client = new Client({
      endPoint: settings.endPoint,
      port: settings.port,
      useSSL: settings.useSSL,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      region: settings.region,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.ensureBucket();
  }

  async ensureBucket(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      await this.client.makeBucket(this.bucket, this.settings.region).catch(async (err: unknown) => {
        // Another instance may have created it between the check and the call.
        if (!(await this.client.bucketExists(this.bucket))) throw err;
      });
    }
  }

  async ping(): Promise<boolean> {
    return this.client.bucketExists(this.bucket);
  }

  /** Streams `body` into `key`; memory stays bounded by the part size whatever the length. */
  async put(key: string, body: Readable | AsyncIterable<Buffer>, options: PutOptions = {}): Promise<StoredObject> {
    const partSize = Math.max(options.partSize ?? 8 * 1024 * 1024, MIN_PART_SIZE);
    const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    const parts = readParts(body, partSize);

    const first = await parts.next();
    if (first.done) {
      await this.client.putObject(this.bucket, key, Buffer.alloc(0), 0, headers);
      return { key, size: 0, etag: (await this.client.statObject(this.bucket, key)).etag };
    }
    const second = await parts.next();
    if (second.done) {
      const info = await this.client.putObject(this.bucket, key, first.value, first.value.length, headers);
      return { key, size: first.value.length, etag: info.etag };
    }

    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, headers);
    try {
      const etags: { part: number; etag: string }[] = [];
      let size = 0;
      let partNumber = 0;
      // Send part n while part n+1 is being read: two parts in memory at most.
      let pending: Promise<void> | undefined;
      const send = (buf: Buffer) => {
        const part = ++partNumber;
        size += buf.length;
        return this.client
          .uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, buf)
          .then((r) => {
            etags.push({ part, etag: r.etag });
          });
      };
      pending = send(first.value);
      let current: IteratorResult<Buffer> = second;
      while (!current.done) {
        await pending;
        pending = send(current.value);
        current = await parts.next();
      }
      await pending;
      etags.sort((a, b) => a.part - b.part);
      const done = await this.client.completeMultipartUpload(this.bucket, key, uploadId, etags);
      return { key, size, etag: done.etag };
    } catch (err) {
      await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string, range?: { offset: number; length?: number }): Promise<Readable> {
    if (range) return this.client.getPartialObject(this.bucket, key, range.offset, range.length);
    return this.client.getObject(this.bucket, key);
  }

  /** null when the object does not exist. */
  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { key, size: s.size, etag: s.etag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Idempotent: deleting a missing object succeeds. */
  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, key);
  }

  async *list(prefix = ''): AsyncGenerator<StoredObject> {
    const stream = this.client.listObjects(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string; size: number; etag: string }>) {
      if (item.name) yield { key: item.name, size: item.size, etag: item.etag };
    }
  }
}

/**
 * Regroups any chunk stream into parts of exactly `partSize` bytes (the last may be
 * shorter). Each part is filled in place, so a part costs its size once, not twice.
 */
export async function* readParts(body: Readable | AsyncIterable<Buffer>, partSize: number): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(partSize);
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
        part = Buffer.allocUnsafe(partSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
