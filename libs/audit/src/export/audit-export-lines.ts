import { canonicalJson, csvRecord } from '@kura/common';
import type { AuditEventView } from '../audit-query.types';

/** Every field of the json view, in this order, so prevHash and hash can be checked outside Kura. */
export const AUDIT_CSV_COLUMNS: ReadonlyArray<keyof AuditEventView> = [
  'seq', 'at', 'actorId', 'actorName', 'action', 'targetType', 'targetId', 'outcome',
  'clientAddress', 'userAgent', 'requestId', 'details', 'prevHash', 'hash',
];

/** The header row (no byte order mark: see csvCell). */
export function csvHeader(): string {
  return csvRecord(AUDIT_CSV_COLUMNS);
}

/** One record per event. `details` is its RFC 8785 JSON text, the text its hash covers. */
export function csvRow(e: AuditEventView): string {
  return csvRecord(AUDIT_CSV_COLUMNS.map((c) => (c === 'details' ? canonicalJson(e.details) : e[c as Exclude<keyof AuditEventView, 'details'>])));
}

/**
 * JSON Lines: the json view of one event, one line. JSON escapes CR and LF inside strings;
 * U+2028 and U+2029 are escaped too, since some line readers (Python's splitlines) break there.
 */
export function jsonLine(e: AuditEventView): string {
  return `${JSON.stringify(e).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}
