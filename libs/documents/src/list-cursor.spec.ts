import { DomainError } from '@kura/common';
import { decodeListCursor, encodeListCursor } from './list-cursor';

describe('list cursor', () => {
  const id = '0b9d3c1e-5f7a-4c2b-9d8e-1f2a3b4c5d6e';

  it('round-trips the exact stored time (microseconds, offset) and id', () => {
    for (const createdAt of ['2026-01-01 00:00:05.123456+00', '2026-01-01 09:00:05+09', '2026-01-01 00:00:05.1-03:30']) {
      expect(decodeListCursor(encodeListCursor({ createdAt, id }))).toEqual({ createdAt, id });
    }
  });

  it.each([
    ['not base64 of a cursor', 'bm90LWEtY3Vyc29y'],
    ['a bad id', Buffer.from(`2026-01-01 00:00:05+00|${id.slice(1)}`).toString('base64url')],
    ['an ISO time instead of PostgreSQL text', Buffer.from(`2026-01-01T00:00:05Z|${id}`).toString('base64url')],
    ['SQL in the time', Buffer.from(`2026-01-01 00:00:05+00'); DROP TABLE documents;--|${id}`).toString('base64url')],
    ['an extra field', Buffer.from(`2026-01-01 00:00:05+00|${id}|x`).toString('base64url')],
  ])('refuses %s as a validation error', (_case, after) => {
    let error: unknown;
    try {
      decodeListCursor(after);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'validation' });
  });
});
