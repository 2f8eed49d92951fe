import { DomainError } from '@kura/common';
import type { ListCursor } from './documents.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// timestamptz as PostgreSQL prints it (ISO DateStyle): "2026-01-01 00:00:05.123456+00".
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

/** The opaque `nextCursor` of a list page: the last row's creation time and id. */
export function encodeListCursor(c: ListCursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, 'utf8').toString('base64url');
}

/** The position `after` names; a cursor this service did not make is a 400, never a query. */
export function decodeListCursor(after: string): ListCursor {
  const [createdAt, id, ...rest] = Buffer.from(after, 'base64url').toString('utf8').split('|');
  if (rest.length || !id || !UUID.test(id) || !createdAt || !PG_TIMESTAMPTZ.test(createdAt)) {
    throw DomainError.validation('The cursor is not one this service issued.', [{ field: 'after', messages: ['after must be a nextCursor from a previous page'] }]);
  }
  return { createdAt, id };
}
