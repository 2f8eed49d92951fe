// Excel, Google Sheets and LibreOffice run a cell that begins with one of these as a formula
// (CSV injection, OWASP): titles, usernames, target ids and user agents come from users, so a
// leading apostrophe makes such a cell text. The cell then differs from the stored value by
// that prefix: exports meant for checking values exactly offer a JSON form too.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field: null and undefined empty, formula starts neutralised, quoted when it
 * holds a comma, quote, CR or LF, quotes doubled. No byte order mark is written anywhere: the
 * `text/csv; charset=utf-8` media type names the encoding (RFC 7111), and a BOM would become
 * part of the first header name for parsers that follow RFC 4180 to the letter.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CRLF-terminated record. */
export function csvRecord(cells: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
