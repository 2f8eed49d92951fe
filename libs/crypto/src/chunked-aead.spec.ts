import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkParams, DecryptStream, EncryptStream, encryptedSize, IntegrityError, TAG_BYTES } from './chunked-aead';

const CHUNK = 64;
const SEALED = CHUNK + TAG_BYTES;

function params(overrides: Partial<ChunkParams> = {}): ChunkParams {
  return { key: randomBytes(32), noncePrefix: randomBytes(8), versionId: randomUUID(), chunkSize: CHUNK, ...overrides };
}

async function collect(source: Readable | Buffer[], transform: EncryptStream | DecryptStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Array.isArray(source) ? Readable.from(source) : source, transform, new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  }));
  return Buffer.concat(out);
}

/** Feeds the input in uneven pieces so chunk boundaries never line up with writes. */
function pieces(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, step = 1; at < buf.length; at += step, step = (step * 7) % 97 + 1) out.push(buf.subarray(at, at + step));
  return out;
}

async function encrypt(p: ChunkParams, plain: Buffer): Promise<{ sealed: Buffer; sha256: string; size: number }> {
  const enc = new EncryptStream(p);
  const sealed = await collect(pieces(plain), enc);
  return { sealed, sha256: enc.sha256, size: enc.plaintextSize };
}

function sealedChunks(sealed: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < sealed.length; at += SEALED) out.push(sealed.subarray(at, at + SEALED));
  return out;
}

describe(EncryptStream.name, () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])('round-trips %i bytes and hashes the plaintext', async (n) => {
    const p = params();
    const plain = randomBytes(n);
    const { sealed, sha256, size } = await encrypt(p, plain);
    expect(sealed.length).toBe(encryptedSize(n, CHUNK));
    expect(sha256).toBe(createHash('sha256').update(plain).digest('hex'));
    expect(size).toBe(n);
    const dec = new DecryptStream(p);
    const back = await collect(pieces(sealed), dec);
    expect(back.equals(plain)).toBe(true);
    expect(dec.sha256).toBe(sha256);
    // The whole object in one buffer (as parallel ranged reads deliver it): chunks opened in place.
    const whole = new DecryptStream(p, sha256);
    expect((await collect([sealed], whole)).equals(plain)).toBe(true);
  });

  it('never emits the plaintext and uses a fresh nonce per chunk', async () => {
    const p = params();
    const plain = Buffer.alloc(4 * CHUNK, 'A');
    const { sealed } = await encrypt(p, plain);
    expect(sealed.includes(Buffer.alloc(16, 'A'))).toBe(false);
    const bodies = sealedChunks(sealed).map((c) => c.subarray(0, 16).toString('hex'));
    expect(new Set(bodies).size).toBe(bodies.length);
  });

  it('rejects bad parameters', () => {
    expect(() => new EncryptStream(params({ key: randomBytes(16) }))).toThrow(RangeError);
    expect(() => new EncryptStream(params({ versionId: 'not-a-uuid' }))).toThrow(RangeError);
    expect(() => new EncryptStream(params({ noncePrefix: randomBytes(4) }))).toThrow(RangeError);
  });
});

describe(DecryptStream.name, () => {
  const plain = randomBytes(4 * CHUNK + 10); // 5 chunks, the last short
  let p: ChunkParams;
  let sealed: Buffer;
  beforeAll(async () => {
    p = params();
    sealed = (await encrypt(p, plain)).sealed;
  });

  async function expectIntegrityFailure(tampered: Buffer, q: ChunkParams = p): Promise<void> {
    // Uneven small pieces go through the accumulator; one whole buffer is opened in place.
    for (const feed of [pieces(tampered), [tampered]]) {
      const out: Buffer[] = [];
      const dec = new DecryptStream(q);
      const run = pipeline(Readable.from(feed), dec, new Writable({
        write(chunk: Buffer, _e, cb) {
          out.push(chunk);
          cb();
        },
      }));
      await expect(run).rejects.toBeInstanceOf(IntegrityError);
      // Whatever was released before the failure is a verified prefix, never altered bytes.
      const released = Buffer.concat(out);
      expect(plain.subarray(0, released.length).equals(released)).toBe(true);
    }
  }

  it('detects a flipped bit in a body', async () => {
    const t = Buffer.from(sealed);
    t[SEALED + 5] ^= 0x01;
    await expectIntegrityFailure(t);
  });

  it('detects a flipped bit in a tag', async () => {
    const t = Buffer.from(sealed);
    t[SEALED - 1] ^= 0x80;
    await expectIntegrityFailure(t);
  });

  it('detects reordered chunks', async () => {
    const c = sealedChunks(sealed);
    await expectIntegrityFailure(Buffer.concat([c[1], c[0], ...c.slice(2)]));
  });

  it('detects a dropped middle chunk', async () => {
    const c = sealedChunks(sealed);
    await expectIntegrityFailure(Buffer.concat([c[0], c[1], c[3], c[4]]));
  });

  it('detects truncation at a chunk boundary (final chunk dropped)', async () => {
    await expectIntegrityFailure(Buffer.concat(sealedChunks(sealed).slice(0, 4)));
  });

  it('detects truncation inside a chunk', async () => {
    await expectIntegrityFailure(sealed.subarray(0, sealed.length - 3));
  });

  it('detects an empty object', async () => {
    await expectIntegrityFailure(Buffer.alloc(0));
  });

  it('detects an appended chunk (the final chunk repeated)', async () => {
    const c = sealedChunks(sealed);
    await expectIntegrityFailure(Buffer.concat([...c, c[4]]));
  });

  it('detects appended bytes', async () => {
    await expectIntegrityFailure(Buffer.concat([sealed, Buffer.from([0])]));
  });

  it('detects a chunk moved in from another version under the same key', async () => {
    // Same key and prefix, different version id: only the AAD binding can catch this.
    const other = { ...p, versionId: randomUUID() };
    const foreign = sealedChunks((await encrypt(other, randomBytes(plain.length))).sealed);
    const c = sealedChunks(sealed);
    await expectIntegrityFailure(Buffer.concat([c[0], foreign[1], ...c.slice(2)]));
  });

  it('refuses to open content under another version id', async () => {
    await expectIntegrityFailure(sealed, { ...p, versionId: randomUUID() });
  });

  it('refuses to open content under another key', async () => {
    await expectIntegrityFailure(sealed, { ...p, key: randomBytes(32) });
  });

  it('withholds the last chunk when the plaintext does not hash to the recorded SHA-256', async () => {
    const wrong = '0'.repeat(64);
    const out: Buffer[] = [];
    const run = pipeline(Readable.from(pieces(sealed)), new DecryptStream(p, wrong), new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }));
    await expect(run).rejects.toBeInstanceOf(IntegrityError);
    expect(Buffer.concat(out).length).toBeLessThan(plain.length);
    await expect(collect([sealed], new DecryptStream(p, wrong))).rejects.toBeInstanceOf(IntegrityError);
    const right = createHash('sha256').update(plain).digest('hex');
    const ok = new DecryptStream(p, right);
    await expect(collect(pieces(sealed), ok)).resolves.toEqual(plain);
  });

  it('round-trips large streams with bounded buffering', async () => {
    const q = params({ chunkSize: 1024 * 1024 });
    const total = 24 * 1024 * 1024 + 123;
    const source = Readable.from(
      (function* () {
        for (let left = total; left > 0; left -= 65536) yield Buffer.alloc(Math.min(65536, left), left & 0xff);
      })(),
    );
    const enc = new EncryptStream(q);
    const dec = new DecryptStream(q);
    let seen = 0;
    let largest = 0;
    await pipeline(source, enc, dec, new Writable({
      write(chunk: Buffer, _e, cb) {
        seen += chunk.length;
        largest = Math.max(largest, chunk.length);
        cb();
      },
    }));
    expect(seen).toBe(total);
    expect(largest).toBeLessThanOrEqual(1024 * 1024);
    expect(dec.sha256).toBe(enc.sha256);
  });
});
