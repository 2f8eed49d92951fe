import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { DomainError, ErrorCode, hasBidiControl } from '@kura/common';

export interface UploadedFile {
  /** The raw bytes as they arrive: must be consumed exactly once. */
  stream: Readable & { truncated?: boolean };
  filename: string;
  /** As declared by the client; never trusted for labelling decisions. */
  declaredType: string;
}

export interface MultipartLimits {
  maxFileBytes: number;
  maxFields?: number;
  maxFieldBytes?: number;
  /** A body from which nothing arrives for this long (while we are ready to read) fails with 408. */
  idleTimeoutMs?: number;
}

export type Fields = Map<string, string[]>;

export interface MultipartBody {
  contentType: string | undefined;
  body: Readable;
}

/** Control characters, path separators and parent references: a filename must be a plain name. */
const UNSAFE_FILENAME = /[\u0000-\u001f\u007f-\u009f/\\]/;

export function validateFilename(name: string | undefined): string {
  if (name === undefined || name.length === 0) throw DomainError.validation('The file part needs a filename.', [{ field: 'file', messages: ['filename is missing'] }]);
  // busboy decodes with the UTF-8 decoder: invalid byte sequences become U+FFFD.
  if (name.includes('\uFFFD')) throw DomainError.validation('The filename is not valid UTF-8.', [{ field: 'file', messages: ['filename is not UTF-8'] }]);
  if (UNSAFE_FILENAME.test(name) || name === '.' || name === '..' || name.trim() !== name || name.trim().length === 0) {
    throw DomainError.validation('The filename must be a plain file name (no path, control characters or surrounding spaces).', [
      { field: 'file', messages: ['filename is not a plain file name'] },
    ]);
  }
  if (hasBidiControl(name)) {
    throw DomainError.validation('The filename contains bidirectional control characters, which make it display differently from what it is.', [
      { field: 'file', messages: ['filename contains bidi control characters'] },
    ]);
  }
  if (Buffer.byteLength(name, 'utf8') > 255) throw DomainError.validation('The filename is longer than 255 bytes.', [{ field: 'file', messages: ['filename too long'] }]);
  return name.normalize('NFC');
}

/**
 * Streams a multipart/form-data body: fields are collected (small, bounded), the single
 * `file` part is handed to `onFile` as a stream the moment it starts, so it flows straight
 * into encryption and the object store and is never held whole. Resolves only after
 * `onFile` has settled, so a caller can always clean up what it wrote.
 */
export function readMultipart<T>(
  input: MultipartBody,
  limits: MultipartLimits,
  onFile: (file: UploadedFile, fieldsSoFar: Fields) => Promise<T>,
): Promise<{ fields: Fields; file?: T }> {
  if (!input.contentType || !/^multipart\/form-data\b/i.test(input.contentType)) {
    return Promise.reject(new DomainError(ErrorCode.UnsupportedMediaType, 'Send the document as multipart/form-data.'));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': input.contentType },
      preservePath: true,
      defParamCharset: 'utf8',
      // 256 KiB file chunks instead of 64 KiB: fewer, larger writes into encryption and S3
      // parts, while an upload waiting for the store holds little (50 concurrent uploads).
      highWaterMark: 256 * 1024,
      fileHwm: 256 * 1024,
      limits: { files: 1, fileSize: limits.maxFileBytes, fields: limits.maxFields ?? 50, fieldSize: limits.maxFieldBytes ?? 16 * 1024, parts: (limits.maxFields ?? 50) + 1 },
    });
  } catch {
    return Promise.reject(DomainError.validation('The multipart body is malformed (missing boundary?).'));
  }

  return new Promise((resolve, reject) => {
    const fields: Fields = new Map();
    let failure: unknown;
    let filePromise: Promise<T> | undefined;
    let fileSeen = false;
    let currentFile: Readable | undefined;

    const settle = async (): Promise<void> => {
      const result = filePromise ? await filePromise.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })) : undefined;
      if (failure !== undefined) return reject(failure);
      if (result && !result.ok) return reject(result.e);
      resolve({ fields, file: result?.ok ? result.v : undefined });
    };
    const pendingStops: Array<() => void> = [];
    const fail = (err: unknown): void => {
      if (failure !== undefined) return;
      failure = err;
      for (const stop of pendingStops) stop();
      currentFile?.destroy(err instanceof Error ? err : new Error(String(err)));
      input.body.unpipe(parser);
      // Discard the rest of the request without buffering it, so the client can read our answer.
      input.body.resume();
      void settle();
    };

    parser.on('field', (name, value, info) => {
      // A part whose Content-Disposition has no (parsable) name.
      if (typeof name !== 'string') return fail(DomainError.validation('Every part needs a name.'));
      if (info.nameTruncated || info.valueTruncated) return fail(DomainError.validation(`The field ${name.slice(0, 40)} is too long.`));
      const list = fields.get(name) ?? [];
      list.push(value);
      fields.set(name, list);
    });
    parser.on('file', (name, stream, info) => {
      if (failure !== undefined) return stream.resume();
      if (name !== 'file' || fileSeen) {
        stream.resume();
        return fail(DomainError.validation(name !== 'file' ? `Unexpected file part ${String(name).slice(0, 40)}; send the content as "file".` : 'Send exactly one file.'));
      }
      fileSeen = true;
      let filename: string;
      try {
        filename = validateFilename(info.filename);
      } catch (err) {
        stream.resume();
        return fail(err);
      }
      currentFile = stream;
      // fail() destroys the stream with the reason; the consumer may not be listening yet.
      stream.on('error', () => undefined);
      stream.on('limit', () => fail(new DomainError(ErrorCode.PayloadTooLarge, `The file is larger than the maximum of ${limits.maxFileBytes} bytes.`)));
      filePromise = onFile({ stream, filename, declaredType: info.mimeType || 'application/octet-stream' }, fields);
      // A failure of the consumer ends the upload; settle() reports it after cleanup.
      filePromise.catch((err: unknown) => fail(err));
    });
    parser.on('filesLimit', () => fail(DomainError.validation('Send exactly one file.')));
    parser.on('fieldsLimit', () => fail(DomainError.validation('Too many fields.')));
    parser.on('partsLimit', () => fail(DomainError.validation('Too many parts.')));
    parser.on('error', () => fail(DomainError.validation('The multipart body is malformed.')));
    parser.on('close', () => {
      if (failure === undefined) void settle();
    });
    if (limits.idleTimeoutMs) {
      const idleMs = limits.idleTimeoutMs;
      let lastData = Date.now();
      input.body.on('data', () => {
        lastData = Date.now();
      });
      const timer = setInterval(() => {
        // Paused (we are the slow side: the store applies backpressure) is not the client's idleness.
        if (input.body.readableFlowing === false || input.body.readableLength > 0) lastData = Date.now();
        if (Date.now() - lastData < idleMs) return;
        fail(new DomainError(ErrorCode.RequestTimeout, `The upload sent nothing for ${Math.round(idleMs / 1000)} s and was dropped; send it again.`));
      }, Math.min(1000, Math.max(50, Math.floor(idleMs / 4))));
      timer.unref();
      const stop = () => clearInterval(timer);
      parser.once('close', stop);
      input.body.once('close', stop);
      input.body.once('end', stop);
      pendingStops.push(stop);
    }
    input.body.on('error', (err) => fail(err));
    // A client that goes away mid-upload: an HTTP request closes without completing.
    input.body.on('close', () => {
      const req = input.body as Readable & { complete?: boolean };
      if (req.complete === false) fail(DomainError.validation('The upload was interrupted.'));
    });
    input.body.pipe(parser);
  });
}
