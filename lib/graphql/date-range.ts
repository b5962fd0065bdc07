import { badUserInput } from '../errors.js';
import { daysBetween } from '../dates.js';

/** The longest range a reporting field accepts, in days (inclusive of both ends). */
export const MAX_RANGE_DAYS = 366;

/**
 * Checks a `since`/`until` pair (already valid `Date` scalars) and returns the instants that bound
 * it: from the start of `since` to the end of `until`, UTC.
 */
export function dateRange(
  since: string,
  until: string,
  maxDays = MAX_RANGE_DAYS,
): { since: string; until: string; startMs: number; endMs: number } {
  const days = daysBetween(since, until) + 1;
  if (days < 1) throw badUserInput(`\`until\` (${until}) must not be before \`since\` (${since}).`, 'until');
  if (days > maxDays)
    throw badUserInput(`The range covers ${days} days; at most ${maxDays} are allowed.`, 'until');
  return {
    since,
    until,
    startMs: Date.parse(`${since}T00:00:00.000Z`),
    endMs: Date.parse(`${until}T23:59:59.999Z`),
  };
}
