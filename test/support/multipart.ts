import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface FilePart {
  /** A string, or raw bytes to test undecodable names. */
  filename: string | Buffer;
  contentType?: string;
  content: Buffer | (() => AsyncIterable<Buffer>);
  name?: string;
}

export type FieldList = Array<[string, string]>;

/** A multipart/form-data body built by hand, so tests control every byte (odd filenames, order). */
export function multipart(fields: FieldList, file?: FilePart, options: { fileFirst?: boolean } = {}): { contentType: string; body: Readable } {
  const boundary = `----kura${randomBytes(8).toString('hex')}`;
  const fieldPart = (name: string, value: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`, 'utf8');
  async function* generate(): AsyncGenerator<Buffer> {
    const filePart = async function* (): AsyncGenerator<Buffer> {
      if (!file) return;
      const name = typeof file.filename === 'string' ? Buffer.from(file.filename, 'utf8') : file.filename;
      yield Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name ?? 'file'}"; filename="`, 'utf8'),
        name,
        Buffer.from(`"\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`, 'utf8'),
      ]);
      if (Buffer.isBuffer(file.content)) yield file.content;
      else for await (const c of file.content()) yield c;
      yield Buffer.from('\r\n');
    };
    if (options.fileFirst) yield* filePart();
    for (const [k, v] of fields) yield fieldPart(k, v);
    if (!options.fileFirst) yield* filePart();
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Readable.from(generate()) };
}

/** The whole body in memory: for supertest's .send() with small files. */
export async function multipartBuffer(fields: FieldList, file?: FilePart, options: { fileFirst?: boolean } = {}): Promise<{ contentType: string; body: Buffer }> {
  const m = multipart(fields, file, options);
  const parts: Buffer[] = [];
  for await (const c of m.body) parts.push(c as Buffer);
  return { contentType: m.contentType, body: Buffer.concat(parts) };
}
