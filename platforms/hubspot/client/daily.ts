import { z } from 'zod';
import { UpstreamError } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logger.js';
import type { ThrottleOutcome, UpstreamCall, UpstreamThrottle } from '../../../lib/upstream/client.js';
import { header } from '../../../lib/upstream/throttle.js';

/**
 * HubSpot's daily limit (250,000 to 1,000,000 calls a day by plan) resets at midnight in the
 * account's time zone. Once HubSpot answers 429 with `policyName: DAILY`, or says no daily calls are
 * left (`X-HubSpot-RateLimit-Daily-Remaining: 0`), retrying before the reset only spends calls that
 * are refused: every call fails at once with UPSTREAM_RATE_LIMITED saying when the limit resets,
 * and nothing is sent to HubSpot until then.
 */

const dailyBody = z.object({ policyName: z.literal('DAILY') }).loose();

/** Whether an error body is HubSpot's daily-limit 429. */
export function isDailyLimitBody(body: unknown): boolean {
  return dailyBody.safeParse(body).success;
}

function zonedWallClock(ms: number, timeZone: string): { y: number; m: number; d: number; offsetMs: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const wall = Date.UTC(
    parts['year'] ?? 1970,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  return {
    y: parts['year'] ?? 1970,
    m: parts['month'] ?? 1,
    d: parts['day'] ?? 1,
    offsetMs: wall - Math.floor(ms / 1000) * 1000,
  };
}

/** The next midnight after `now` in `timeZone` (an IANA name such as `America/New_York`), as epoch ms. */
export function nextDailyReset(now: number, timeZone = 'UTC'): number {
  const today = zonedWallClock(now, timeZone);
  const midnightWall = Date.UTC(today.y, today.m - 1, today.d + 1);
  // The offset at midnight may differ from now's (a DST change today): correct with the offset there.
  const guess = midnightWall - today.offsetMs;
  return midnightWall - zonedWallClock(guess, timeZone).offsetMs;
}

/** Whether `timeZone` is an IANA time zone name this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export interface DailyLimitState {
  /** HubSpot's daily limit is spent; no call goes out before `resetsAt`. */
  exhausted: boolean;
  /** When the daily limit resets (ISO instant); null while it is not spent. */
  resetsAt: string | null;
}

/**
 * Wraps HubSpot's other throttles: holds every call while the daily limit is spent, and learns that
 * it is from HubSpot's answers.
 */
export class DailyLimitGate implements UpstreamThrottle {
  private exhaustedUntil = 0;

  constructor(
    private readonly inner: UpstreamThrottle,
    private readonly options: { timeZone: string; logger?: Logger; now?: () => number },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  state(): DailyLimitState {
    const exhausted = this.now() < this.exhaustedUntil;
    return { exhausted, resetsAt: exhausted ? new Date(this.exhaustedUntil).toISOString() : null };
  }

  /** The error every call gets while the daily limit is spent. */
  error(endpoint?: string): UpstreamError {
    const now = this.now();
    const resetsAt = new Date(this.exhaustedUntil).toISOString();
    return new UpstreamError(
      `hubspot: the account's daily API limit is spent; calls resume when it resets at ${resetsAt} (midnight ${this.options.timeZone})`,
      {
        platform: 'hubspot',
        code: 'UPSTREAM_RATE_LIMITED',
        upstreamCode: 'DAILY',
        retryable: false,
        retryAfterSeconds: Math.ceil((this.exhaustedUntil - now) / 1000),
        resetsAt,
        ...(endpoint ? { endpoint } : {}),
      },
    );
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    if (this.now() < this.exhaustedUntil) return Promise.reject(this.error(call.endpoint));
    return this.inner.acquire(call, deadline);
  }

  release(call: UpstreamCall, outcome: ThrottleOutcome | undefined): void {
    this.inner.release(call, outcome);
    if (!outcome) return;
    const dailyRefusal = outcome.status === 429 && isDailyLimitBody(outcome.body);
    const noneLeft = header(outcome.headers, 'x-hubspot-ratelimit-daily-remaining') === '0';
    if (!dailyRefusal && !noneLeft) return;
    const now = this.now();
    if (now < this.exhaustedUntil) return;
    this.exhaustedUntil = nextDailyReset(now, this.options.timeZone);
    this.options.logger?.warn(
      {
        platform: 'hubspot',
        resetsAt: new Date(this.exhaustedUntil).toISOString(),
        timeZone: this.options.timeZone,
      },
      'hubspot daily API limit spent: holding every call until it resets',
    );
  }
}
