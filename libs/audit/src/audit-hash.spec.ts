import { hash } from 'node:crypto';
import { encodeEvent, eventHash, GENESIS_HASH, HashedEvent, HASHED_COLUMNS } from './audit-hash';

const event: HashedEvent = {
  seq: '258',
  at: new Date('2000-01-01T00:00:01.500Z'),
  actorId: '00000000-0000-4000-8000-0000000000AB',
  actorName: 'ä',
  action: 'document.read',
  targetType: null,
  targetId: 'doc',
  outcome: 'allowed',
  clientAddress: null,
  userAgent: null,
  requestId: 'r',
  details: { b: 1, a: 'x' },
  prevHash: GENESIS_HASH,
};

/** Splits an encoding back into its length-prefixed fields. */
function fields(bytes: Buffer): Array<Buffer | null> {
  const out: Array<Buffer | null> = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readInt32BE(at);
    at += 4;
    out.push(length === -1 ? null : bytes.subarray(at, at + length));
    at += Math.max(length, 0);
  }
  return out;
}

describe('encodeEvent', () => {
  it('writes each hashed column as a length-prefixed value in PostgreSQL binary form, null as length -1', () => {
    const f = fields(encodeEvent(event));
    expect(f).toHaveLength(HASHED_COLUMNS.length);
    expect(f[0]).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
    // 1.5 s after PostgreSQL's epoch, in microseconds.
    expect(f[1]?.readBigInt64BE()).toBe(1_500_000n);
    expect(f[2]?.toString('hex')).toBe('00000000000040008000000000000' + '0ab');
    expect(f[3]).toEqual(Buffer.from([0xc3, 0xa4]));
    expect(f[5]).toBeNull();
    expect(f[8]).toBeNull();
    expect(f[11]?.toString()).toBe('{"a":"x","b":1}');
    expect(f[12]?.toString()).toBe(GENESIS_HASH);
  });

  it('tells apart events whose texts only move between neighbouring fields, or turn null into empty', () => {
    const moved = encodeEvent({ ...event, actorName: 'äd', action: 'ocument.read' });
    const emptied = encodeEvent({ ...event, targetType: '' });
    expect(moved.equals(encodeEvent(event))).toBe(false);
    expect(emptied.equals(encodeEvent(event))).toBe(false);
    expect(eventHash(event)).toBe(hash('sha256', encodeEvent(event), 'hex'));
  });

  it('refuses what the database would not store as hashed', () => {
    expect(() => encodeEvent({ ...event, actorId: 'not-a-uuid' })).toThrow('UUID');
    expect(() => encodeEvent({ ...event, at: new Date(Number.NaN) })).toThrow('valid date');
  });
});
