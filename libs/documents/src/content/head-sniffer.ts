import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through and keeps the first few, to recognise the real type (e.g. `%PDF-`). */
export class HeadSniffer extends Transform {
  private kept = Buffer.alloc(0);

  constructor(private readonly keep = 1029) {
    super();
  }

  /** The first `keep` bytes (fewer when the stream was shorter). */
  get head(): Buffer {
    return this.kept;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.kept.length < this.keep) this.kept = Buffer.concat([this.kept, chunk.subarray(0, this.keep - this.kept.length)]);
    done(null, chunk);
  }
}
