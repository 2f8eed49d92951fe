import { canonicalJson } from '@kura/common';
import type { AuditEventView } from '../audit-query.types';
import { csvCell } from '@kura/common';
import { AUDIT_CSV_COLUMNS, csvHeader, csvRow, jsonLine } from './audit-export-lines';

const event: AuditEventView = {
  seq: 42,
  at: '2026-11-26T06:14:14.123Z',
  actorId: null,
  actorName: 'bob',
  action: 'document.read',
  targetType: null,
  targetId: 'a\u2028b',
  outcome: 'allowed',
  clientAddress: '::1',
  userAgent: 'curl/8',
  requestId: null,
  details: { z: 1, a: 'x,"y"' },
  prevHash: '0'.repeat(64),
  hash: 'f'.repeat(64),
};

describe(csvCell.name, () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    [null, ''],
    [7, '7'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\rlf', '"cr\rlf"'],
    ['監査ログ', '監査ログ'],
    // Formula starts (CSV injection) become text; a start later in the cell is harmless.
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    ['a=b', 'a=b'],
  ])('writes %j as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe('audit export lines', () => {
  it('writes a header of every view field (no byte order mark), and rows in the same order ending in CRLF', () => {
    expect(csvHeader()).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    expect(csvRow(event)).toBe(
      `42,2026-11-26T06:14:14.123Z,,bob,document.read,,a\u2028b,allowed,::1,curl/8,,"${canonicalJson(event.details).replace(/"/g, '""')}",${'0'.repeat(64)},${'f'.repeat(64)}\r\n`,
    );
  });

  it('writes one JSON line per event that parses back to the view', () => {
    const line = jsonLine({ ...event, actorName: 'multi\nline\r\u2029' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\r\n\u2028\u2029]/);
    expect(line).toContain('"targetId":"a\\u2028b"');
    expect(JSON.parse(line)).toEqual({ ...event, actorName: 'multi\nline\r\u2029' });
  });
});
