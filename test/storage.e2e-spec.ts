import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

/**
 * Deterministic pseudo-random bytes, generated lazily from a 1 MiB block (cheap under load):
 * the source never holds the whole stream, and no two consecutive chunks are equal.
 */
function generated(total: number, seed: number): Readable {
  const block = Buffer.concat(
    Array.from({ length: 32 * 1024 }, (_, i) => createHash('sha256').update(`${seed}:${i}`).digest()),
  );
  let produced = 0;
  let n = 0;
  return new Readable({
    highWaterMark: 256 * 1024,
    read() {
      if (produced >= total) return this.push(null);
      const size = Math.min(256 * 1024, total - produced);
      const offset = (n++ * 7919) % (block.length - size);
      produced += size;
      this.push(Buffer.from(block.subarray(offset, offset + size)));
    },
  });
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk);
    size += chunk.length;
  }
  return { hash: h.digest('hex'), size };
}

/**
 * Samples live heap + ArrayBuffer memory (where Buffers live) while `work` runs.
 * Collects garbage before each sample, so the figure is what the transfer holds, not
 * what the collector has yet to free.
 */
async function peakMemoryDuring<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  gc();
  const base = process.memoryUsage();
  const baseline = base.heapUsed + base.arrayBuffers;
  let peak = baseline;
  const timer = setInterval(() => {
    gc();
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
  }, 250);
  try {
    const result = await work();
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}

describe(ObjectStore.name, () => {
  let t: TestApp;
  let store: ObjectStore;
  beforeAll(async () => {
    t = await startTestApp();
    store = t.app.get(ObjectStore);
  });
  afterAll(async () => {
    await t.close();
  });

  it('round-trips a 50 MiB stream through multipart upload with bounded memory', async () => {
    const size = 50 * MiB;
    const expected = await sha256Of(generated(size, 7));

    const put = await peakMemoryDuring(() => store.put('roundtrip/50mib', generated(size, 7), { partSize: 5 * MiB, partsInFlight: 1 }));
    expect(put.result.size).toBe(size);
    expect((await store.stat('roundtrip/50mib'))?.size).toBe(size);

    const got = await peakMemoryDuring(async () => sha256Of(await store.get('roundtrip/50mib')));
    expect(got.result).toEqual(expected);

    // Whole-buffering would hold all 50 MiB; (1 in flight + 1 filling) × 5 MiB parts, plus the
    // client's and sockets' buffers, stay well below that whatever the stream's length.
    expect(put.growth).toBeLessThan(40 * MiB);
    expect(got.growth).toBeLessThan(40 * MiB);
  }, 300_000);

  it('stores small objects in one PUT and empty objects too', async () => {
    await store.put('small/one', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect((await sha256Of(await store.get('small/one'))).size).toBe(11);
    await store.put('small/empty', Readable.from([]));
    expect((await store.stat('small/empty'))?.size).toBe(0);
  });

  it('reads a byte range', async () => {
    await store.put('range/x', Readable.from([Buffer.from('0123456789')]));
    const part = await sha256Of(await store.get('range/x', { offset: 3, length: 4 }));
    expect(part.size).toBe(4);
  });

  it('lists by prefix, deletes idempotently and reports missing objects as null', async () => {
    await store.put('list/a', Readable.from([Buffer.from('a')]));
    await store.put('list/b', Readable.from([Buffer.from('b')]));
    const keys: string[] = [];
    for await (const o of store.list('list/')) keys.push(o.key);
    expect(keys.sort()).toEqual(['list/a', 'list/b']);
    await store.delete('list/a');
    await store.delete('list/a');
    expect(await store.stat('list/a')).toBeNull();
    expect(await store.stat('list/b')).not.toBeNull();
  });

  it('aborts a failing multipart upload and leaves no object behind', async () => {
    const failing = async function* () {
      yield Buffer.alloc(6 * MiB, 1);
      yield Buffer.alloc(6 * MiB, 2);
      throw new Error('source failed');
    };
    await expect(store.put('broken/x', failing(), { partSize: 5 * MiB })).rejects.toThrow('source failed');
    expect(await store.stat('broken/x')).toBeNull();
  });

  it('sends several parts at once, signed UNSIGNED-PAYLOAD, and reads back every byte in order', async () => {
    const size = 23 * MiB + 8; // the generator writes whole 32-bit words
    const expected = await sha256Of(generated(size, 11));
    const put = await store.put('parallel/23mib', generated(size, 11), { partSize: 5 * MiB, partsInFlight: 3, selfAuthenticating: true });
    expect(put.size).toBe(size);
    expect(await sha256Of(await store.get('parallel/23mib'))).toEqual(expected);
  }, 240_000);
});
