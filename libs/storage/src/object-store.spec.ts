import { PartBudget, readParts } from './object-store';

async function collect(chunks: Buffer[], partSize: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const p of readParts((async function* () { yield* chunks; })(), partSize)) out.push(Buffer.from(p));
  return out;
}

describe(readParts.name, () => {
  it('regroups uneven chunks into exact parts and keeps every byte in order', async () => {
    const input = [Buffer.from('abc'), Buffer.from('defghij'), Buffer.from(''), Buffer.from('k')];
    const parts = await collect(input, 4);
    expect(parts.map((p) => p.toString())).toEqual(['abcd', 'efgh', 'ijk']);
  });

  it('yields nothing for an empty stream and one short part for a small one', async () => {
    expect(await collect([], 4)).toEqual([]);
    expect((await collect([Buffer.from('ab')], 4)).map(String)).toEqual(['ab']);
  });

  it('ends exactly on a part boundary without an empty trailing part', async () => {
    expect((await collect([Buffer.from('abcdefgh')], 4)).map(String)).toEqual(['abcd', 'efgh']);
  });

  it('takes whole parts from the allocator it is given (the process part budget)', async () => {
    const given = [Buffer.alloc(4), Buffer.alloc(4)];
    const asked: number[] = [];
    const parts: Buffer[] = [];
    const allocate = async (size: number) => (asked.push(size), given.shift() as Buffer);
    for await (const p of readParts((async function* () { yield Buffer.from('abcdefgh'); })(), 4, allocate)) parts.push(p);
    expect(asked).toEqual([4, 4]);
    expect(parts.map(String)).toEqual(['abcd', 'efgh']);
  });

  it('sizes the part of a small body to the body, not to the part size (a 4 KiB put does not cost 8 MiB)', async () => {
    const MiB = 1024 * 1024;
    const parts: Buffer[] = [];
    for await (const p of readParts((async function* () { yield Buffer.alloc(4096, 1); })(), 8 * MiB)) parts.push(p);
    expect(parts).toHaveLength(1);
    expect(parts[0].length).toBe(4096);
    expect(parts[0].buffer.byteLength).toBeLessThanOrEqual(64 * 1024);
  });

  it('grows the first part as bytes arrive and keeps every byte, then fills whole parts', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000, i));
    const parts = await collect(chunks, 16_384);
    expect(parts.map((p) => p.length)).toEqual([16_384, 16_384, 7232]);
    expect(Buffer.concat(parts).equals(Buffer.concat(chunks))).toBe(true);
  });
});

describe(PartBudget.name, () => {
  it('holds at most the budget; a waiter gets the next released buffer, first come first served', async () => {
    const budget = new PartBudget(8);
    const a = await budget.acquire(4, 1000);
    const b = await budget.acquire(4, 1000);
    const order: string[] = [];
    const c = budget.acquire(4, 1000).then((buf) => (order.push('c'), buf));
    const d = budget.acquire(4, 1000).then((buf) => (order.push('d'), buf));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    expect(budget.stats()).toMatchObject({ heldBytes: 8, waiting: 2 });
    budget.release(a);
    const got = await c;
    expect(got).toBe(a); // refilled, not reallocated
    expect(order).toEqual(['c']);
    budget.release(b);
    await d;
    expect(order).toEqual(['c', 'd']);
    expect(budget.stats()).toMatchObject({ heldBytes: 8, peakHeldBytes: 8, waiting: 0 });
  });

  it('fails a wait that outlasts its limit as the store being unavailable, and forgets the waiter', async () => {
    const budget = new PartBudget(4);
    const a = await budget.acquire(4, 1000);
    await expect(budget.acquire(4, 20)).rejects.toMatchObject({ name: expect.stringMatching(/Timeout/) });
    expect(budget.stats().waiting).toBe(0);
    budget.release(a);
    expect(budget.stats().heldBytes).toBe(0);
  });

  it('grants a part larger than the whole budget when nothing else is held', async () => {
    const budget = new PartBudget(4);
    const big = await budget.acquire(16, 1000);
    expect(big.length).toBe(16);
    budget.release(big);
    expect(budget.stats().heldBytes).toBe(0);
  });
});
