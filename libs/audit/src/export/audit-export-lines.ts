import { canonicalJson } from '@kura/common';
import type { AuditEventView } from '../audit-query.types';

/** Every field of the json view, in this order, so prevHash and hash can be checked outside Kura. */
export const AUDIT_CSV_COLUMNS: ReadonlyArray<keyof AuditEventView> = [
  'seq', 'at', 'actorId', 'actorName', 'action', 'targetType', 'targetId', 'outcome',
  'clientAddress', 'userAgent', 'requestId', 'details', 'prevHash', 'hash',
];

// Excel, Google Sheets and LibreOffice run a cell that begins with one of these as a formula
// (CSV injection, OWASP): actor names, target ids and user agents come from users, so a leading
// apostrophe makes such a cell text. The cell then differs from the stored value by that prefix.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes doubled. */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'object' ? canonicalJson(value) : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The header row. A UTF-8 byte order mark goes first: without it Excel (in a Japanese locale
 * above all) reads a CSV as the system code page and garbles Japanese names; RFC 4180 parsers
 * that do not expect it see it only before the first header name, never in data.
 */
export function csvHeader(): string {
  return `\uFEFF${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
}

/** One record per event, CRLF-terminated (RFC 4180). `details` is its RFC 8785 JSON text, the text its hash covers. */
export function csvRow(e: AuditEventView): string {
  return `${AUDIT_CSV_COLUMNS.map((c) => csvCell(e[c])).join(',')}\r\n`;
}

/**
 * JSON Lines: the json view of one event, one line. JSON escapes CR and LF inside strings;
 * U+2028 and U+2029 are escaped too, since some line readers (Python's splitlines) break there.
 */
export function jsonLine(e: AuditEventView): string {
  return `${JSON.stringify(e).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}
