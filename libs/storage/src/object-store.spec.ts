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
});
