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

export interface RetentionFacts {
  trigger: RetentionTrigger;
  period: RetentionPeriod;
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

/** Trigger date + period; null (kept indefinitely) until an event-based trigger fires. */
export function dispositionDate(facts: RetentionFacts): Date | null {
  const start = triggerDate(facts);
  return start === null ? null : addPeriod(start, facts.period);
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
  return `Series ${seriesCode}: ${describePeriod(facts.period)} after ${from} on ${start.toISOString()} ended on ${end.toISOString()}.`;
}
