import type { AttemptResult } from './attempt.js';
import type { DeliveriesConfig } from './config.js';

/** What becomes of a message after an attempt. */
export type Verdict =
  | { status: 'succeeded' }
  /** Tried again at `nextAttemptMs`. */
  | { status: 'pending'; nextAttemptMs: number }
  /** Every attempt of the schedule failed. */
  | { status: 'exhausted' }
  /** The endpoint answered `410 Gone`: no more attempts, and the endpoint is disabled. */
  | { status: 'failed'; reason: 'gone' };

/**
 * The wait a `Retry-After` header asks for, in ms from `nowMs`: delay-seconds or an HTTP date.
 * Undefined when absent or unreadable (then the schedule alone decides).
 */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return Number(value) * 1000;
  // IMF-fixdate (and the obsolete forms Date.parse reads); a bare number was handled above.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The verdict after attempt number `attempt` (1 for the first of the schedule): a 2xx succeeds, a
 * 410 ends it, anything else waits for the schedule's next delay, or longer when the endpoint's
 * `Retry-After` asks for more (capped at `retryAfterMaxMs`; it never shortens the schedule), until
 * the schedule runs out.
 */
export function verdictFor(
  result: Pick<AttemptResult, 'errorClass' | 'statusCode' | 'retryAfter'>,
  attempt: number,
  config: Pick<DeliveriesConfig, 'retryScheduleMs' | 'retryAfterMaxMs'>,
  nowMs: number,
): Verdict {
  if (result.errorClass === null) return { status: 'succeeded' };
  if (result.statusCode === 410) return { status: 'failed', reason: 'gone' };
  const scheduled = config.retryScheduleMs[attempt];
  if (scheduled === undefined) return { status: 'exhausted' };
  const asked = retryAfterMs(result.retryAfter, nowMs);
  const wait = Math.max(scheduled, Math.min(asked ?? 0, config.retryAfterMaxMs));
  return { status: 'pending', nextAttemptMs: nowMs + wait };
}
