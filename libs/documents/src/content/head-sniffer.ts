import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through and keeps the first few, to recognise the real type (e.g. `%PDF-`). */
export class HeadSniffer extends Transform {
  private head = Buffer.alloc(0);

  constructor(private readonly keep = 8) {
    super();
  }

  startsWith(magic: Buffer): boolean {
    return this.head.length >= magic.length && this.head.subarray(0, magic.length).equals(magic);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.head.length < this.keep) this.head = Buffer.concat([this.head, chunk.subarray(0, this.keep - this.head.length)]);
    done(null, chunk);
  }
}
