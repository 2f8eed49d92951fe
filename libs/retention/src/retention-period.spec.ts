import fc from 'fast-check';
import {
  addPeriod,
  compareDispositionDates,
  dispositionDate,
  dueReason,
  isDue,
  isShortening,
  parseTrigger,
  triggerDate,
} from './retention-period';

const d = (iso: string) => new Date(iso);

describe('retention period arithmetic', () => {
  it('adds years, months and days in UTC, keeping the time of day', () => {
    expect(addPeriod(d('2020-04-15T09:30:00.000Z'), { years: 7, months: 0, days: 0 }).toISOString()).toBe('2027-04-15T09:30:00.000Z');
    expect(addPeriod(d('2020-04-15T09:30:00.000Z'), { years: 0, months: 10, days: 20 }).toISOString()).toBe('2021-03-07T09:30:00.000Z');
    expect(addPeriod(d('2020-04-15T23:59:59.999Z'), { years: 0, months: 0, days: 1 }).toISOString()).toBe('2020-04-16T23:59:59.999Z');
  });

  it('clamps to the end of the month: 29 Feb + 1 year is 28 Feb', () => {
    expect(addPeriod(d('2024-02-29T00:00:00Z'), { years: 1, months: 0, days: 0 }).toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(addPeriod(d('2024-02-29T00:00:00Z'), { years: 4, months: 0, days: 0 }).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(addPeriod(d('2023-01-31T12:00:00Z'), { years: 0, months: 1, days: 0 }).toISOString()).toBe('2023-02-28T12:00:00.000Z');
    expect(addPeriod(d('2024-01-31T12:00:00Z'), { years: 0, months: 1, days: 0 }).toISOString()).toBe('2024-02-29T12:00:00.000Z');
    expect(addPeriod(d('2023-08-31T00:00:00Z'), { years: 0, months: 13, days: 0 }).toISOString()).toBe('2024-09-30T00:00:00.000Z');
  });

  it('adds months before days, as PostgreSQL does (31 Jan + 1 month 1 day = 1 Mar)', () => {
    expect(addPeriod(d('2023-01-31T00:00:00Z'), { years: 0, months: 1, days: 1 }).toISOString()).toBe('2023-03-01T00:00:00.000Z');
  });

  it('a zero period is the trigger date itself (My Number: delete once no longer needed)', () => {
    expect(addPeriod(d('2030-06-01T00:00:00Z'), { years: 0, months: 0, days: 0 }).toISOString()).toBe('2030-06-01T00:00:00.000Z');
  });

  it('never moves backwards and is monotonic in the start date, to the day', () => {
    const date = fc.date({ min: d('1990-01-01T00:00:00Z'), max: d('2090-12-31T00:00:00Z'), noInvalidDate: true });
    const period = fc.record({ years: fc.integer({ min: 0, max: 100 }), months: fc.integer({ min: 0, max: 120 }), days: fc.integer({ min: 0, max: 3650 }) });
    const day = (t: Date) => Math.floor(t.getTime() / 86_400_000);
    fc.assert(
      fc.property(date, date, period, (a, b, p) => {
        expect(addPeriod(a, p).getTime()).toBeGreaterThanOrEqual(a.getTime());
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(day(addPeriod(lo, p))).toBeLessThanOrEqual(day(addPeriod(hi, p)));
      }),
    );
  });

  it('keeps the time of day through end-of-month clamping, as PostgreSQL does, so two starts on neighbouring days can land on one day in either order', () => {
    // fast-check found this: 30 and 31 Dec + 45 months both clamp to 30 Sep, each keeping its own time.
    const months45 = { years: 0, months: 45, days: 0 };
    expect(addPeriod(d('2090-12-30T00:00:00.001Z'), months45).toISOString()).toBe('2094-09-30T00:00:00.001Z');
    expect(addPeriod(d('2090-12-31T00:00:00.000Z'), months45).toISOString()).toBe('2094-09-30T00:00:00.000Z');
  });
});

describe('retention triggers', () => {
  it('parses created and event triggers and rejects anything else', () => {
    expect(parseTrigger('created')).toEqual({ kind: 'created' });
    expect(parseTrigger('event:employment-ended')).toEqual({ kind: 'event', event: 'employment-ended' });
    for (const bad of ['', 'event:', 'event:Employment', 'event:a--b', 'event:-x', 'creation', 'event:x y', 'created ', 'event:purpose-ended;drop']) {
      expect(parseTrigger(bad)).toBeUndefined();
    }
  });

  const period = { years: 7, months: 0, days: 0 };

  it('a created trigger counts from the creation date', () => {
    const facts = { trigger: parseTrigger('created')!, period, createdAt: d('2020-01-10T00:00:00Z'), events: {} };
    expect(triggerDate(facts)?.toISOString()).toBe('2020-01-10T00:00:00.000Z');
    expect(dispositionDate(facts)?.toISOString()).toBe('2027-01-10T00:00:00.000Z');
  });

  it('an event trigger has no date until its event arrives, and other events do not count', () => {
    const facts = { trigger: parseTrigger('event:employment-ended')!, period, createdAt: d('2020-01-10T00:00:00Z'), events: { 'purpose-ended': d('2021-01-01T00:00:00Z') } };
    expect(dispositionDate(facts)).toBeNull();
    expect(isDue(dispositionDate(facts), d('2999-01-01T00:00:00Z'))).toBe(false);
    expect(dueReason(facts, 'HR-01')).toBeNull();
    const arrived = { ...facts, events: { ...facts.events, 'employment-ended': d('2022-03-31T00:00:00Z') } };
    expect(dispositionDate(arrived)?.toISOString()).toBe('2029-03-31T00:00:00.000Z');
    expect(dueReason(arrived, 'HR-01')).toContain('event "employment-ended"');
  });

  it('is due from the disposition instant on, not before', () => {
    const at = d('2027-01-10T00:00:00Z');
    expect(isDue(at, d('2027-01-09T23:59:59.999Z'))).toBe(false);
    expect(isDue(at, at)).toBe(true);
    expect(isDue(at, d('2027-01-11T00:00:00Z'))).toBe(true);
  });
});

describe('shortening retention', () => {
  const early = d('2027-01-01T00:00:00Z');
  const late = d('2030-01-01T00:00:00Z');

  it('an earlier date is shortening; the same or a later one is not', () => {
    expect(isShortening(late, early)).toBe(true);
    expect(isShortening(early, late)).toBe(false);
    expect(isShortening(early, new Date(early))).toBe(false);
  });

  it('treats "waiting for an event" as later than any date', () => {
    expect(isShortening(null, early)).toBe(true);
    expect(isShortening(early, null)).toBe(false);
    expect(isShortening(null, null)).toBe(false);
    expect(compareDispositionDates(null, late)).toBe(1);
  });
});

describe('"the later of" a purpose-ended event and a statutory minimum', () => {
  // 扶養控除等申告書: destroy once the purpose ends, but keep 7 years after the filing deadline (所得税法施行規則 第76条の3).
  const purposeEnded = parseTrigger('event:purpose-ended')!;
  const minimum = { trigger: parseTrigger('event:filing-deadline')!, period: { years: 7, months: 0, days: 0 } };
  const facts = (events: Record<string, string>) => ({
    trigger: purposeEnded,
    period: { years: 0, months: 0, days: 0 },
    createdAt: d('2020-01-10T00:00:00Z'),
    events: Object.fromEntries(Object.entries(events).map(([k, v]) => [k, d(v)])),
    minimum,
  });

  it('is the statutory end when the purpose ends first, the event when it ends later', () => {
    expect(dispositionDate(facts({ 'purpose-ended': '2021-06-30T00:00:00Z', 'filing-deadline': '2021-01-31T00:00:00Z' }))?.toISOString()).toBe('2028-01-31T00:00:00.000Z');
    expect(dispositionDate(facts({ 'purpose-ended': '2029-03-31T00:00:00Z', 'filing-deadline': '2021-01-31T00:00:00Z' }))?.toISOString()).toBe('2029-03-31T00:00:00.000Z');
    // Both on the same instant: due then, not a millisecond later.
    expect(dispositionDate(facts({ 'purpose-ended': '2028-01-31T00:00:00Z', 'filing-deadline': '2021-01-31T00:00:00Z' }))?.toISOString()).toBe('2028-01-31T00:00:00.000Z');
  });

  it('keeps the record while either date is unknown', () => {
    expect(dispositionDate(facts({ 'filing-deadline': '2021-01-31T00:00:00Z' }))).toBeNull();
    expect(dispositionDate(facts({ 'purpose-ended': '2021-06-30T00:00:00Z' }))).toBeNull();
    expect(dueReason(facts({ 'purpose-ended': '2021-06-30T00:00:00Z' }), 'MN-01')).toBeNull();
  });

  it('at month ends and leap years: 29 Feb + 7 years is 28 Feb; 31 Jan + 1 month is the last day of February', () => {
    expect(dispositionDate(facts({ 'purpose-ended': '2024-03-01T00:00:00Z', 'filing-deadline': '2024-02-29T00:00:00Z' }))?.toISOString()).toBe('2031-02-28T00:00:00.000Z');
    expect(dispositionDate(facts({ 'purpose-ended': '2031-02-28T00:00:00.001Z', 'filing-deadline': '2024-02-29T00:00:00Z' }))?.toISOString()).toBe('2031-02-28T00:00:00.001Z');
    const leapTarget = { ...facts({ 'purpose-ended': '2020-01-01T00:00:00Z', 'filing-deadline': '2020-02-29T00:00:00Z' }), minimum: { ...minimum, period: { years: 8, months: 0, days: 0 } } };
    expect(dispositionDate(leapTarget)?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    const monthEnd = { ...facts({ 'purpose-ended': '2023-02-01T00:00:00Z', 'filing-deadline': '2023-01-31T00:00:00Z' }), minimum: { ...minimum, period: { years: 0, months: 1, days: 0 } } };
    expect(dispositionDate(monthEnd)?.toISOString()).toBe('2023-02-28T00:00:00.000Z');
    const leapMonthEnd = { ...facts({ 'purpose-ended': '2024-02-01T00:00:00Z', 'filing-deadline': '2024-01-31T00:00:00Z' }), minimum: { ...minimum, period: { years: 0, months: 1, days: 0 } } };
    expect(dispositionDate(leapMonthEnd)?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(isDue(dispositionDate(leapMonthEnd), d('2024-02-28T23:59:59.999Z'))).toBe(false);
    expect(isDue(dispositionDate(leapMonthEnd), d('2024-02-29T00:00:00Z'))).toBe(true);
  });

  it('a statutory minimum counted from creation works too, and the reason names both', () => {
    const fromCreation = { ...facts({ 'purpose-ended': '2021-06-30T00:00:00Z' }), minimum: { trigger: parseTrigger('created')!, period: { years: 5, months: 0, days: 0 } } };
    expect(dispositionDate(fromCreation)?.toISOString()).toBe('2025-01-10T00:00:00.000Z');
    expect(dueReason(fromCreation, 'MN-01')).toMatch(/statutory minimum of 5 years after creation .* ended on 2025-01-10/);
  });

  it('is never earlier than either rule alone (property)', () => {
    const date = fc.date({ min: d('2000-01-01T00:00:00Z'), max: d('2080-12-31T00:00:00Z'), noInvalidDate: true });
    const period = fc.record({ years: fc.integer({ min: 0, max: 20 }), months: fc.integer({ min: 0, max: 24 }), days: fc.integer({ min: 0, max: 400 }) });
    fc.assert(
      fc.property(date, date, period, period, (ended, deadline, p, m) => {
        const f = { trigger: purposeEnded, period: p, createdAt: d('2000-01-01T00:00:00Z'), events: { 'purpose-ended': ended, 'filing-deadline': deadline }, minimum: { trigger: minimum.trigger, period: m } };
        const both = dispositionDate(f)!.getTime();
        return both === Math.max(addPeriod(ended, p).getTime(), addPeriod(deadline, m).getTime());
      }),
    );
  });
});
