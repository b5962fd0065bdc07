import { createRequire } from 'node:module';
import type * as CronParserModule from 'cron-parser';

/**
 * cron-parser (and luxon, which it loads: 1.2 MB of heap) on the first cron schedule: every
 * gateway loads this module with the sync definitions' types, few run a cron sync (issue 17,
 * target 2). Required synchronously, as parseSchedule answers synchronously.
 */
let cronParser: typeof CronParserModule.CronExpressionParser | undefined;
function cron(): typeof CronParserModule.CronExpressionParser {
  cronParser ??= (createRequire(import.meta.url)('cron-parser') as typeof CronParserModule)
    .CronExpressionParser;
  return cronParser;
}

/**
 * When a sync runs on its own: every fixed interval (`every: 1h`), or on a cron expression in a
 * time zone (`cron: "0 6 * * *"`, `timeZone: Europe/Paris`: 06:00 Paris time, summer and winter).
 */
export type Schedule =
  | { kind: 'interval'; everyMs: number; text: string }
  | { kind: 'cron'; expression: string; timeZone: string; text: string };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A sync more often than once a minute would only queue behind itself (SYNC_MIN_INTERVAL_MS). */
export const MIN_INTERVAL_MS = 60_000;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schedule, or why it is not one. */
export function parseSchedule(
  input: { every: string } | { cron: string; timeZone: string },
  minIntervalMs = MIN_INTERVAL_MS,
): Schedule | string {
  if ('every' in input) {
    const match = /^(\d+)\s*([smhd])$/.exec(input.every.trim());
    if (!match) return 'must be a number and a unit, such as 15m, 1h or 1d';
    const everyMs = Number(match[1]) * (UNITS[match[2] ?? 'h'] ?? 0);
    if (everyMs < minIntervalMs)
      return `must be at least ${minIntervalMs % 60_000 === 0 ? `${minIntervalMs / 60_000}m` : `${minIntervalMs / 1000}s`}`;
    return { kind: 'interval', everyMs, text: `every ${input.every.trim()}` };
  }
  if (!isTimeZone(input.timeZone)) return `timeZone: ${input.timeZone} is not an IANA time zone`;
  try {
    cron().parse(input.cron, { tz: input.timeZone, strict: false });
  } catch (error) {
    return `is not a cron expression: ${error instanceof Error ? error.message : 'invalid'}`;
  }
  return {
    kind: 'cron',
    expression: input.cron,
    timeZone: input.timeZone,
    text: `cron ${input.cron} (${input.timeZone})`,
  };
}

/** When a sync last started at `lastStart` (undefined: never) is next due, seen at `now`. */
export function nextRunAt(schedule: Schedule, lastStart: number | undefined, now: number): number {
  if (schedule.kind === 'interval') return lastStart === undefined ? now : lastStart + schedule.everyMs;
  const from = lastStart ?? now - 1;
  const next = cron()
    .parse(schedule.expression, {
      tz: schedule.timeZone,
      currentDate: new Date(from),
    })
    .next();
  return next.getTime();
}
