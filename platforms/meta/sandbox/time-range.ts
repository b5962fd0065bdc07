import { addDays, daysBetween, isCalendarDate } from '../../../lib/dates.js';

/**
 * The reporting window of an insights request: `time_range` (a JSON object) or else `date_preset`,
 * or else Meta's default of the last 30 days. "Today" is the world's anchor date, the last day
 * the sandbox has data for, so a preset means the same days however long the sandbox has run.
 */

export interface TimeRange {
  since: string;
  until: string;
}

/** Meta keeps 37 months of insights; `maximum` reaches that far back. */
const MAXIMUM_DAYS = 37 * 31;

function monthStart(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

const PRESETS: Record<string, (today: string) => TimeRange> = {
  today: (today) => ({ since: today, until: today }),
  yesterday: (today) => ({ since: addDays(today, -1), until: addDays(today, -1) }),
  last_3d: (today) => ({ since: addDays(today, -3), until: addDays(today, -1) }),
  last_7d: (today) => ({ since: addDays(today, -7), until: addDays(today, -1) }),
  last_14d: (today) => ({ since: addDays(today, -14), until: addDays(today, -1) }),
  last_28d: (today) => ({ since: addDays(today, -28), until: addDays(today, -1) }),
  last_30d: (today) => ({ since: addDays(today, -30), until: addDays(today, -1) }),
  last_90d: (today) => ({ since: addDays(today, -90), until: addDays(today, -1) }),
  this_month: (today) => ({ since: monthStart(today), until: today }),
  last_month: (today) => {
    const until = addDays(monthStart(today), -1);
    return { since: monthStart(until), until };
  },
  maximum: (today) => ({ since: addDays(today, -MAXIMUM_DAYS), until: today }),
};

/** Reads `time_range` / `date_preset`; a message for code 100 when neither is acceptable. */
export function timeRangeOf(query: URLSearchParams, today: string): TimeRange | { error: string } {
  const raw = query.get('time_range');
  if (raw !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const since = (parsed as { since?: unknown } | undefined)?.since;
    const until = (parsed as { until?: unknown } | undefined)?.until;
    if (
      typeof since !== 'string' ||
      typeof until !== 'string' ||
      !isCalendarDate(since) ||
      !isCalendarDate(until)
    )
      return {
        error: `Param time_range must be a JSON object {"since":"YYYY-MM-DD","until":"YYYY-MM-DD"} of real days, got ${raw.slice(0, 100)}`,
      };
    if (daysBetween(since, until) < 0)
      return { error: `Param time_range is invalid: since (${since}) must not be after until (${until})` };
    return { since, until };
  }
  const preset = query.get('date_preset') ?? 'last_30d';
  const resolve = PRESETS[preset];
  if (!resolve)
    return {
      error: `date_preset must be one of the following values: ${Object.keys(PRESETS).join(', ')}`,
    };
  return resolve(today);
}

/** How rows are split in time: one row for the whole range, every N days, or per calendar month. */
export type TimeIncrement = { every: 'range' } | { every: 'days'; days: number } | { every: 'month' };

export function timeIncrementOf(query: URLSearchParams): TimeIncrement | { error: string } {
  const raw = query.get('time_increment') ?? 'all_days';
  if (raw === 'all_days') return { every: 'range' };
  if (raw === 'monthly') return { every: 'month' };
  const days = Number(raw);
  if (/^\d{1,2}$/.test(raw) && days >= 1 && days <= 90) return { every: 'days', days };
  return { error: `time_increment must be all_days, monthly or a number of days from 1 to 90, got ${raw}` };
}

/** The bucket (first and last day, clipped to the range) a day falls into. */
export function bucketOf(date: string, range: TimeRange, increment: TimeIncrement): TimeRange {
  switch (increment.every) {
    case 'range':
      return range;
    case 'month': {
      const last = addDays(monthStart(addDays(monthStart(date), 31)), -1);
      return {
        since: monthStart(date) < range.since ? range.since : monthStart(date),
        until: last > range.until ? range.until : last,
      };
    }
    case 'days': {
      const index = Math.floor(daysBetween(range.since, date) / increment.days);
      const since = addDays(range.since, index * increment.days);
      const last = addDays(since, increment.days - 1);
      return { since, until: last > range.until ? range.until : last };
    }
  }
}
