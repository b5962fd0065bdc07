import { addDays, isCalendarDate } from '../dates.js';

/**
 * Days in the example operations, written relative to a reference day so they always fall inside
 * the demo's data: the sandboxes generate 90 days of activity ending on their anchor date (today
 * unless `SANDBOX_ANCHOR_DATE` says otherwise). A `# Variables:` line writes `"$today"` or
 * `"$today-29"`; the explorer fills in today's dates, the tests and the README their anchor date.
 */

/** `$today`, `$today-29`, `$today+1`: a day counted from the reference day. */
const RELATIVE_DAY = /^\$today(?:([+-])(\d{1,4}))?$/;

/** Any string that looks like an attempt at a relative day, to catch typos such as `$tday-3`. */
const LOOKS_RELATIVE = /^\$t/i;

/** Days in the dashboards' default range: the 30 days ending on the reference day. */
export const DASHBOARD_RANGE_DAYS = 30;

/** The dashboards' default range, as the Dashboard example and the `npm start` banner use it. */
export function exampleDateRange(today: string): { since: string; until: string } {
  return { since: addDays(today, -(DASHBOARD_RANGE_DAYS - 1)), until: today };
}

/** The day `value` names relative to `today`, or undefined when it is not a relative day. */
export function relativeDay(value: string, today: string): string | undefined {
  const match = RELATIVE_DAY.exec(value);
  if (!match) return undefined;
  const offset = match[2] ? Number(match[2]) * (match[1] === '-' ? -1 : 1) : 0;
  return addDays(today, offset);
}

/** A sentence for each string in `variables` that starts like a relative day but is not one. */
export function relativeDayProblems(variables: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(variables)
    .filter(([, value]) => typeof value === 'string' && LOOKS_RELATIVE.test(value))
    .filter(([, value]) => !RELATIVE_DAY.test(value as string))
    .map(
      ([name, value]) =>
        `$${name}: ${JSON.stringify(value)} is not a relative day; write "$today", "$today-29" or "$today+1"`,
    );
}

/**
 * The variables with every relative day replaced by its date counted from `today` (YYYY-MM-DD, a
 * UTC calendar day). Other values are left as they are; only top-level strings are days here.
 */
export function resolveExampleVariables(
  variables: Readonly<Record<string, unknown>>,
  today: string,
): Record<string, unknown> {
  if (!isCalendarDate(today))
    throw new RangeError(`today must be a YYYY-MM-DD day, got ${JSON.stringify(today)}`);
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? (relativeDay(value, today) ?? value) : value,
    ]),
  );
}
