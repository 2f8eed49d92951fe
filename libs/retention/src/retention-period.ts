/**
 * The retention rule, as pure functions: one place decides when a record may be
 * disposed of. The due-list SQL (RetentionRepository) computes the same date with
 * PostgreSQL interval arithmetic; retention-date.e2e-spec holds the two equal.
 */

export interface RetentionPeriod {
  years: number;
  months: number;
  days: number;
}

export type RetentionTrigger = { kind: 'created' } | { kind: 'event'; event: string };

/** Event names are lower-case words joined by hyphens: `employment-ended`, `purpose-ended`. */
export const EVENT_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const TRIGGER_PATTERN = /^(created|event:[a-z][a-z0-9]*(-[a-z0-9]+)*)$/;
/** The same rule for the database CHECK constraint (POSIX regex). */
export const TRIGGER_SQL_PATTERN = '^(created|event:[a-z][a-z0-9]*(-[a-z0-9]+)*)$';

export function parseTrigger(value: string): RetentionTrigger | undefined {
  if (!TRIGGER_PATTERN.test(value)) return undefined;
  return value === 'created' ? { kind: 'created' } : { kind: 'event', event: value.slice('event:'.length) };
}

function daysInMonthUtc(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * `from` + period in UTC, as PostgreSQL adds an interval: years and months first, the
 * day clamped to the end of the target month (29 Feb + 1 year = 28 Feb), then days.
 * The time of day is kept.
 */
export function addPeriod(from: Date, period: RetentionPeriod): Date {
  const totalMonths = from.getUTCMonth() + period.years * 12 + period.months;
  const year = from.getUTCFullYear() + Math.floor(totalMonths / 12);
  const month = ((totalMonths % 12) + 12) % 12;
  const day = Math.min(from.getUTCDate(), daysInMonthUtc(year, month));
  const shifted = new Date(
    Date.UTC(year, month, day, from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds(), from.getUTCMilliseconds()),
  );
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  shifted.setUTCFullYear(year, month, day);
  return new Date(shifted.getTime() + period.days * 86_400_000);
}

/**
 * A statutory minimum a series may add to its rule: the record is kept until the later of its
 * own disposition date and `trigger + period` (e.g. My Number: destroy once the purpose ends,
 * but not before 7 years after the filing deadline).
 */
export interface StatutoryMinimum {
  trigger: RetentionTrigger;
  period: RetentionPeriod;
}

/** A series' statutory minimum from its stored columns (no trigger: none). */
export function statutoryMinimumOf(s: { minimumTrigger: string | null; minimumYears: number | null; minimumMonths: number | null; minimumDays: number | null }): StatutoryMinimum | null {
  const trigger = s.minimumTrigger === null ? undefined : parseTrigger(s.minimumTrigger);
  if (!trigger) return null;
  return { trigger, period: { years: s.minimumYears ?? 0, months: s.minimumMonths ?? 0, days: s.minimumDays ?? 0 } };
}

export interface RetentionFacts {
  trigger: RetentionTrigger;
  period: RetentionPeriod;
  /** "The later of": absent or null when the series has none. */
  minimum?: StatutoryMinimum | null;
  /** When the document was created (the `created` trigger). */
  createdAt: Date;
  /** Occurrence dates of events recorded for the document, by event name. */
  events: Readonly<Record<string, Date | undefined>>;
}

/** The trigger date, or null while an event-based trigger still waits for its event. */
export function triggerDate(facts: Pick<RetentionFacts, 'trigger' | 'createdAt' | 'events'>): Date | null {
  if (facts.trigger.kind === 'created') return facts.createdAt;
  return facts.events[facts.trigger.event] ?? null;
}

/** When the statutory minimum ends; null while its trigger event is unknown (or there is none). */
function minimumEnd(facts: RetentionFacts): Date | null {
  if (!facts.minimum) return null;
  const start = triggerDate({ trigger: facts.minimum.trigger, createdAt: facts.createdAt, events: facts.events });
  return start === null ? null : addPeriod(start, facts.minimum.period);
}

/**
 * Trigger date + period, or with a statutory minimum the later of that and the minimum's end;
 * null (kept indefinitely) until every trigger it depends on has fired.
 */
export function dispositionDate(facts: RetentionFacts): Date | null {
  const start = triggerDate(facts);
  if (start === null) return null;
  const end = addPeriod(start, facts.period);
  if (!facts.minimum) return end;
  const floor = minimumEnd(facts);
  if (floor === null) return null;
  return floor.getTime() > end.getTime() ? floor : end;
}

/** A null date means "kept until an event arrives", i.e. later than any date. */
export function compareDispositionDates(a: Date | null, b: Date | null): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return Math.sign(a.getTime() - b.getTime());
}

/** True when the change would let the record be disposed of earlier than before. */
export function isShortening(before: Date | null, after: Date | null): boolean {
  return compareDispositionDates(after, before) < 0;
}

export function isDue(date: Date | null, now: Date): boolean {
  return date !== null && date.getTime() <= now.getTime();
}

export function describePeriod(period: RetentionPeriod): string {
  const parts: string[] = [];
  if (period.years) parts.push(`${period.years} year${period.years === 1 ? '' : 's'}`);
  if (period.months) parts.push(`${period.months} month${period.months === 1 ? '' : 's'}`);
  if (period.days) parts.push(`${period.days} day${period.days === 1 ? '' : 's'}`);
  return parts.length ? parts.join(' ') : 'no further retention';
}

/** Why a record is due, for the due list and the certificate. */
export function dueReason(facts: RetentionFacts, seriesCode: string): string | null {
  const start = triggerDate(facts);
  if (start === null) return null;
  const end = addPeriod(start, facts.period);
  const from = facts.trigger.kind === 'created' ? 'creation' : `event "${facts.trigger.event}"`;
  const own = `Series ${seriesCode}: ${describePeriod(facts.period)} after ${from} on ${start.toISOString()} ended on ${end.toISOString()}`;
  if (!facts.minimum) return `${own}.`;
  const minStart = triggerDate({ trigger: facts.minimum.trigger, createdAt: facts.createdAt, events: facts.events });
  if (minStart === null) return null;
  const floor = addPeriod(minStart, facts.minimum.period);
  const minFrom = facts.minimum.trigger.kind === 'created' ? 'creation' : `event "${facts.minimum.trigger.event}"`;
  return `${own}, and the statutory minimum of ${describePeriod(facts.minimum.period)} after ${minFrom} on ${minStart.toISOString()} ended on ${floor.toISOString()} (the later of the two applies).`;
}
