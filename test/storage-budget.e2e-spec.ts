import { Readable } from 'node:stream';
import { ObjectStore } from '@kura/storage';
import { startTestApp, TestApp } from './support/app';

const MiB = 1024 * 1024;

/** `size` bytes in fresh 256 KiB chunks (each a new allocation, as from a socket), lazily. */
function source(size: number, seed: number): Readable {
  let left = size;
  let n = 0;
  return new Readable({
    highWaterMark: 256 * 1024,
    read() {
      if (left <= 0) return this.push(null);
      const chunk = Buffer.alloc(Math.min(256 * 1024, left), (seed + n++) & 0xff);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

/**
 * Issue 14: "api RSS with 50 concurrent 64 MiB uploads: growth ≤ 256 MiB". Each upload's S3
 * parts are 8 MiB, up to 3 in flight plus 1 filling: without a process-wide bound, memory
 * grows with the number of concurrent uploads. The part buffers come from one budget for the
 * whole process; an upload that finds it spent waits (its client is slowed by TCP), and
 * nothing deadlocks: a buffer is held only while it fills or travels.
 */
describe('object store part buffers under many concurrent uploads', () => {
  let t: TestApp;
  let store: ObjectStore;
  beforeAll(async () => {
    t = await startTestApp();
    store = t.app.get(ObjectStore);
  });
  afterAll(async () => {
    await t.close();
  });

  it('12 concurrent 20 MiB puts hold at most the part budget at any moment, give every buffer back, and store every byte', async () => {
    const uploads = 12;
    const size = 20 * MiB;
    const before = store.partBuffers();
    // Unbounded, 12 uploads × (1 filling + up to 3 in flight) × 8 MiB would be 96-384 MiB of parts.
    let sampledPeak = 0;
    const timer = setInterval(() => (sampledPeak = Math.max(sampledPeak, store.partBuffers().heldBytes)), 10);
    let results;
    try {
      results = await Promise.all(Array.from({ length: uploads }, (_, i) => store.put(`budget/${i}`, source(size, i), { selfAuthenticating: true })));
    } finally {
      clearInterval(timer);
    }
    expect(results.map((r) => r.size)).toEqual(Array(uploads).fill(size));
    for (let i = 0; i < uploads; i++) expect((await store.stat(`budget/${i}`))?.size).toBe(size);
    const after = store.partBuffers();
    expect(after.heldBytes).toBe(0);
    expect(after.waiting).toBe(0);
    expect(after.budgetBytes).toBe(64 * MiB);
    // The budget was used (uploads did wait for it) and never exceeded.
    expect(Math.max(sampledPeak, after.peakHeldBytes)).toBeGreaterThan(before.heldBytes);
    expect(sampledPeak).toBeLessThanOrEqual(after.budgetBytes);
    expect(after.peakHeldBytes).toBeLessThanOrEqual(after.budgetBytes);
    for (let i = 0; i < 4; i++) {
      const got = await store.get(`budget/${i}`);
      let bytes = 0;
      let wrong = 0;
      let n = 0;
      let carry = 0;
      for await (const c of got) {
        // Chunk k of the source is filled with (seed + k) & 0xff, 256 KiB per chunk.
        for (let j = 0; j < c.length; j += 4096) if (c[j] !== ((i + Math.floor((bytes + j) / (256 * 1024))) & 0xff)) wrong++;
        bytes += c.length;
        n++;
        carry = c.length;
      }
      expect([bytes, wrong, n > 0, carry > 0]).toEqual([size, 0, true, true]);
    }
    }, 300_000);
});
