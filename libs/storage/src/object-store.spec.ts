import { readParts } from './object-store';

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

  it('refills parts handed back as spare instead of allocating new ones', async () => {
    const spare = [Buffer.alloc(4)];
    const reused = spare[0];
    const parts: Buffer[] = [];
    for await (const p of readParts((async function* () { yield Buffer.from('abcdefgh'); })(), 4, spare)) parts.push(p);
    expect(parts[0]).toBe(reused);
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
