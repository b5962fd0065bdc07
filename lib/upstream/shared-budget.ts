import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { UpstreamError, type Platform } from '../errors.js';
import type { RedisClient } from '../redis/shared-client.js';
import type { ThrottleOutcome, UpstreamCall, UpstreamThrottle } from './client.js';

/**
 * A platform account's rate limit spent by several processes at once (gateway or subgraph
 * instances, sync workers): each process keeps its own throttle (its queue, its priorities, what
 * the platform's headers teach it), and in front of the platform every call also takes a point
 * from a budget in Redis that all the processes share, so together they never send more than the
 * plan allows. The counting is rate-limiter-flexible's (RateLimiterRedis: an atomic
 * increment-with-expiry per key), not ours.
 *
 * Its windows are fixed and start with their first call; the platforms' are rolling (HubSpot's
 * ten seconds). A rolling window of length W overlaps at most ceil(W / w) + 1 consecutive fixed
 * windows of length w, so with floor(max / (ceil(W / w) + 1)) points in each no rolling window ever
 * sees more than `max`. w is picked (whole seconds) for the most throughput that rule leaves: 100
 * per 10 s gives 8 per second, 80% of the plan. A limit too small to split (fewer calls than the
 * sub-windows a rolling window overlaps) is not shared: `wrap` answers the process's own throttle.
 *
 * Background calls (sync writes) also take a point from a second, smaller budget that leaves a
 * reserve of each window to interactive ones, so across processes a sync cannot spend the calls a
 * dashboard query needs.
 */

export interface SharedBudget {
  /** Calls the plan allows in any rolling `windowMs`. */
  max: number;
  windowMs: number;
  /** Which of the account's limits (`general`, `search`): one Redis key each. */
  name: string;
}

/**
 * The fixed sub-windows that keep every rolling window within `max`: their length and points, or
 * undefined when no split leaves even one call per sub-window. They cover `windowMs + marginMs`,
 * for the time between a call taking its point and the platform counting it (HubSpot's own
 * throttle keeps 250 ms of slack for the same reason), and last whole seconds: the Redis store
 * sets its expiries in seconds.
 */
export function subWindows(
  max: number,
  windowMs: number,
  marginMs = Math.max(100, windowMs * 0.025),
): { ms: number; points: number } | undefined {
  const span = windowMs + marginMs;
  let best: { ms: number; points: number } | undefined;
  for (let seconds = 1; seconds * 1000 <= span * 2; seconds += 1) {
    const ms = seconds * 1000;
    // A rolling span overlaps at most this many consecutive fixed windows.
    const overlapped = Math.ceil(span / ms) + 1;
    const points = Math.floor(max / overlapped);
    if (points >= 1 && (!best || points / ms > best.points / best.ms)) best = { ms, points };
  }
  return best;
}

/** Points of each sub-window background calls leave to interactive ones (none when there is one). */
const reserveOf = (points: number) => (points <= 1 ? 0 : Math.max(1, Math.floor(points * 0.1)));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

export interface SharedBudgetsOptions {
  client: RedisClient;
  /** Keys under `{prefix}:budget:…`. @default 'mg:upstream' */
  prefix?: string;
  /** A call must be able to start this long before its deadline to be worth waiting for. @default 250 */
  marginMs?: number;
}

/** The shared budgets of one Redis: wraps a process's throttle for one account's limit. */
export class SharedBudgets {
  private readonly limiters = new Map<
    string,
    { all: RateLimiterRedis; background: RateLimiterRedis | undefined }
  >();

  constructor(private readonly options: SharedBudgetsOptions) {}

  private limitersFor(split: { ms: number; points: number }) {
    const { ms, points } = split;
    const id = `${points}/${ms}`;
    const found = this.limiters.get(id);
    if (found) return found;
    const make = (kind: string, n: number) =>
      new RateLimiterRedis({
        storeClient: this.options.client,
        useRedisPackage: true,
        keyPrefix: `${this.options.prefix ?? 'mg:upstream'}:budget:${kind}:${id}`,
        points: n,
        // In seconds; fractions are kept (the store sets the expiry in milliseconds).
        duration: ms / 1000,
        // Redis unreachable: each process counts alone, as without sharing, rather than fail calls.
        insuranceLimiter: new RateLimiterMemory({ points: n, duration: ms / 1000 }),
      });
    const reserve = reserveOf(points);
    const limiters = {
      all: make('all', points),
      background: reserve > 0 ? make('bg', points - reserve) : undefined,
    };
    this.limiters.set(id, limiters);
    return limiters;
  }

  /**
   * `local` with every call also spending `budget` in Redis under `account` (a hash, never the
   * account's id itself).
   */
  wrap(local: UpstreamThrottle, platform: Platform, account: string, budget: SharedBudget): UpstreamThrottle {
    const split = subWindows(budget.max, budget.windowMs);
    if (!split) return local;
    const limiters = this.limitersFor(split);
    const key = `${account}:${budget.name}`;
    const margin = this.options.marginMs ?? 250;
    const limited = (message: string, retryAfterMs?: number) =>
      new UpstreamError(
        `${platform}: ${message} (limit shared by every process: ${budget.max} per ${budget.windowMs / 1000} s)`,
        {
          platform,
          code: 'UPSTREAM_RATE_LIMITED',
          upstreamCode: 'CLIENT_THROTTLE',
          retryable: false,
          ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 100) / 10 } : {}),
        },
      );
    /** Takes a point, waiting for the next window while the deadline allows; else answers the wait. */
    const take = async (limiter: RateLimiterRedis, deadline: number): Promise<true | number> => {
      for (;;) {
        try {
          await limiter.consume(key, 1);
          return true;
        } catch (rejection) {
          // A spent window is a RateLimiterRes saying how long to wait; anything else is a defect.
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          const wait = Math.max(1, rejection.msBeforeNext);
          if (Date.now() + wait > deadline - margin) return wait;
          await sleep(wait);
        }
      }
    };
    return {
      acquire: async (call: UpstreamCall, deadline: number) => {
        await local.acquire(call, deadline);
        try {
          const background = call.priority === 'background' ? limiters.background : undefined;
          const waited = background === undefined ? true : await take(background, deadline);
          const taken = waited === true ? await take(limiters.all, deadline) : waited;
          if (taken !== true)
            throw limited(
              `the shared rate limit would delay this call about ${Math.round(taken)} ms, past the request deadline`,
              taken,
            );
        } catch (error) {
          // Not sent: the local throttle frees what it holds (a concurrency slot) and serves the next.
          local.release(call, undefined);
          throw error;
        }
      },
      release: (call: UpstreamCall, outcome: ThrottleOutcome | undefined) => local.release(call, outcome),
      ...(local.budget ? { budget: (now: number) => local.budget?.(now) } : {}),
    };
  }
}
