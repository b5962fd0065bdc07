/**
 * The graph's time conventions: `DateTime` is ISO-8601 in UTC with milliseconds
 * (`2026-03-01T14:30:00.000Z`), `Date` is a calendar day `YYYY-MM-DD`. Platforms send epoch
 * milliseconds, offsets (`-05:00`) or Mailchimp's `2009-03-26 21:35:57`; connectors convert here.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Any instant a platform sends, as the graph's DateTime. Throws RangeError on an unparseable value. */
export function toDateTime(value: string | number): string {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (/^\d{13}$/.test(value)) ms = Number(value);
  else if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value))
    ms = Date.parse(`${value.replace(' ', 'T')}Z`);
  else ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`not a date-time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** True when `text` is a real calendar day written as YYYY-MM-DD (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const d = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return d.toISOString().slice(0, 10) === text;
}

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** The calendar day (UTC) an ISO instant falls on. */
export function dayOf(dateTime: string): string {
  return new Date(Date.parse(dateTime)).toISOString().slice(0, 10);
}
