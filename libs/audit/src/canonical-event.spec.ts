import fc from 'fast-check';
import { canonicalJson } from '@kura/common';
import { canonicalDetailsFromText, canonicalEventJson, CanonicalEventFields, isoFromPgTimestamp } from './canonical-event';

function reference(e: CanonicalEventFields, details: Record<string, unknown>): string {
  return canonicalJson({ ...e, details });
}

function fast(e: CanonicalEventFields, details: Record<string, unknown>): string {
  // The verifier reads details as JSONB text; any key order the database chooses must give the same bytes.
  const plain = canonicalEventJson(e, canonicalDetailsFromText(JSON.stringify(details)));
  // With typed fields trusted (seq, at, uuid, hex prevHash) the bytes must not change either.
  const trusted = canonicalEventJson(e, canonicalDetailsFromText(JSON.stringify(details)), true);
  expect(trusted).toBe(plain);
  return plain;
}

const base: CanonicalEventFields = {
  seq: '42',
  at: '2026-11-26T03:00:00.123Z',
  actorId: '6f1c7e0a-3d1b-4c9e-9a57-0c1e2f3a4b5c',
  actorName: 'alice',
  action: 'document.read',
  targetType: 'Document',
  targetId: 'b9d3c7e2-1111-4222-8333-944455566677',
  outcome: 'allowed',
  clientAddress: '::ffff:127.0.0.1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  requestId: 'req-1',
  prevHash: 'a'.repeat(64),
};

describe('canonicalEventJson', () => {
  it('matches canonicalJson on a plain event with empty details', () => {
    expect(fast(base, {})).toBe(reference(base, {}));
  });

  it('matches on nulls, unicode, escapes and nested details', () => {
    const e: CanonicalEventFields = {
      ...base,
      actorId: null,
      actorName: '山田 太郎 \u{1F600} "quoted" \\ back\nslash\ttab \u0001 \u2028 \u007f é',
      targetType: null,
      targetId: null,
      clientAddress: null,
      userAgent: '</script>\u00e9\u0301',
      requestId: null,
    };
    const details = {
      z: 1,
      a: [1, 2.5, -0, 1e21, 1e-7, 123456789012345680000, true, false, null, 'x'],
      é: { '\u{1F600}': 'emoji key', '\u00e9': 'é', e: 'e', E: 'E', '10': 'ten', '9': 'nine', '': 'empty' },
      nested: { deeper: { deepest: [{ b: 2, a: 1 }, []] }, classification: { old: 'INTERNAL', new: 'SECRET' } },
      '\ud83d\ude00': 'astral key sorts by UTF-16 code unit',
      '\uff61': 'BMP key after the surrogates',
    };
    expect(fast(e, details)).toBe(reference(e, details));
  });

  it('matches on arbitrary events (property test)', () => {
    // Any code point, controls and astral ones included; lone surrogates cannot come out of PostgreSQL text.
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)),
      fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', 'a', '\u{1F600}'), maxLength: 10 }),
    );
    const nullable = fc.option(text, { nil: null });
    const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String),
          at: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
          actorId: fc.option(fc.uuid(), { nil: null }),
          actorName: text,
          action: text,
          targetType: nullable,
          targetId: nullable,
          outcome: fc.constantFrom('allowed', 'denied', 'failed'),
          clientAddress: nullable,
          userAgent: nullable,
          requestId: nullable,
          prevHash: fc.stringMatching(/^[0-9a-f]{64}$/),
        }),
        fc.dictionary(text, json, { maxKeys: 6 }),
        (e, details) => {
          expect(fast(e, details)).toBe(reference(e, details));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('isoFromPgTimestamp', () => {
  it('turns PostgreSQL UTC timestamptz text into Date.toISOString() form, truncating to milliseconds', () => {
    const cases: Array<[string, string]> = [
      ['2026-11-26 03:00:00.123+00', '2026-11-26T03:00:00.123Z'],
      ['2026-11-26 03:00:00+00', '2026-11-26T03:00:00.000Z'],
      ['2026-11-26 03:00:00.1+00', '2026-11-26T03:00:00.100Z'],
      ['2026-11-26 03:00:00.12+00', '2026-11-26T03:00:00.120Z'],
      ['2026-11-26 03:00:00.123456+00', '2026-11-26T03:00:00.123Z'],
      ['1999-12-31 23:59:59.999+00', '1999-12-31T23:59:59.999Z'],
    ];
    for (const [pg, iso] of cases) {
      expect(isoFromPgTimestamp(pg)).toBe(iso);
      expect(new Date(iso).toISOString()).toBe(iso);
    }
  });

  it('falls back to Date parsing for anything else', () => {
    expect(isoFromPgTimestamp('2026-11-26T03:00:00.5Z')).toBe('2026-11-26T03:00:00.500Z');
  });
});
