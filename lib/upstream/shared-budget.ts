import { UpstreamError, type Platform } from '../errors.js';
import type { RedisClient } from '../redis/shared-client.js';
import type { ThrottleOutcome, UpstreamCall, UpstreamThrottle } from './client.js';
import { takeSlot, type HeldSlot } from './shared-semaphore.js';
import { takeFromWindow } from './shared-window.js';

/**
 * A platform account's limits spent by several processes at once (gateway or subgraph instances,
 * sync workers): each process keeps its own throttle (its queue, its priorities, what the
 * platform's headers teach it), and in front of the platform every call also takes its share of
 * the limit in Redis that all the processes share, so together they never send more than the plan
 * allows: a grant in a rolling window to the millisecond for rate limits (shared-window.ts, why it
 * is not rate-limiter-flexible is said there), a leased slot for concurrency caps
 * (shared-semaphore.ts).
 *
 * Background calls (sync writes) stop short of the whole limit: they leave a reserve of each
 * window, or of the slots, to interactive ones, so across processes a sync cannot spend the calls
 * a dashboard query needs.
 *
 * Redis unreachable: each process counts alone (its own throttle, which allows itself the whole
 * plan) rather than fail calls, and they share again once Redis answers.
 */

/** At most `max` calls in any rolling `windowMs` (HubSpot's 100 per 10 s, its 5 searches a second). */
export interface SharedBudget {
  max: number;
  windowMs: number;
  /** Which of the account's limits (`general`, `search`): one Redis key each. */
  name: string;
}

/** At most `concurrent` calls in flight (Mailchimp's connections, Twilio's concurrent requests). */
export interface SharedConcurrency {
  concurrent: number;
  name: string;
}

export type SharedLimit = SharedBudget | SharedConcurrency;

/**
 * Slack added to a rolling window on our side, for the time between a call taking its grant and
 * the platform counting it (HubSpot's own throttle keeps 250 ms for the same reason).
 */
export const windowMarginMs = (windowMs: number) => Math.max(100, windowMs * 0.025);

/** What background calls leave to interactive ones out of `max` (none when there is one). */
export const reserveOf = (max: number) => (max <= 1 ? 0 : Math.max(1, Math.floor(max * 0.1)));

/** How often a full semaphore is asked again: a slot freed by its holder says nothing. */
const SLOT_POLL_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

export interface SharedBudgetsOptions {
  client: RedisClient;
  /** Keys under `{prefix}:budget:…` and `{prefix}:slots:…`. @default 'mg:upstream' */
  prefix?: string;
  /** A call must be able to start this long before its deadline to be worth waiting for. @default 250 */
  marginMs?: number;
  /**
   * How long a slot outlives a process killed while holding it; a live holder renews it every
   * third of this. @default 10000
   */
  leaseMs?: number;
}

/** The shared limits of one Redis: wraps a process's throttle for one account's limit. */
export class SharedBudgets {
  constructor(private readonly options: SharedBudgetsOptions) {}

  /**
   * `local` with every call also spending `limit` in Redis under `account` (a hash, never the
   * account's id itself).
   */
  wrap(local: UpstreamThrottle, platform: Platform, account: string, limit: SharedLimit): UpstreamThrottle {
    const prefix = this.options.prefix ?? 'mg:upstream';
    const margin = this.options.marginMs ?? 250;
    const client = this.options.client;
    const described =
      'windowMs' in limit
        ? `${limit.max} per ${limit.windowMs / 1000} s`
        : `${limit.concurrent} calls in flight`;
    const limited = (message: string, retryAfterMs?: number) =>
      new UpstreamError(`${platform}: ${message} (limit shared by every process: ${described})`, {
        platform,
        code: 'UPSTREAM_RATE_LIMITED',
        upstreamCode: 'CLIENT_THROTTLE',
        retryable: false,
        ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 100) / 10 } : {}),
      });
    const late = (waitMs: number, deadline: number) => Date.now() + waitMs > deadline - margin;

    /** Takes what the call needs in Redis, waiting while the deadline allows. */
    let take: (call: UpstreamCall, deadline: number) => Promise<HeldSlot | undefined>;
    if ('windowMs' in limit) {
      const key = `${prefix}:budget:window:${account}:${limit.name}:${limit.max}/${limit.windowMs}`;
      const span = limit.windowMs + windowMarginMs(limit.windowMs);
      take = async (call, deadline) => {
        const allowed = call.priority === 'background' ? limit.max - reserveOf(limit.max) : limit.max;
        for (;;) {
          let wait: number;
          try {
            wait = await takeFromWindow(client, key, span, allowed);
          } catch {
            return undefined; // Redis unreachable: the process's own throttle counted the call.
          }
          if (wait === 0) return undefined;
          if (late(wait, deadline))
            throw limited(
              `the shared rate limit would delay this call about ${Math.round(wait)} ms, past the request deadline`,
              wait,
            );
          await sleep(wait);
        }
      };
    } else {
      const key = `${prefix}:slots:${account}:${limit.name}:${limit.concurrent}`;
      const leaseMs = this.options.leaseMs ?? 10_000;
      take = async (call, deadline) => {
        const allowed =
          call.priority === 'background' ? limit.concurrent - reserveOf(limit.concurrent) : limit.concurrent;
        for (;;) {
          let slot: HeldSlot | number;
          try {
            slot = await takeSlot(client, key, allowed, leaseMs);
          } catch {
            return undefined; // Redis unreachable: the process's own throttle holds the cap.
          }
          if (typeof slot !== 'number') return slot;
          // A slot frees when its holder is done (no notice) or at the latest when its lease ends.
          const wait = Math.min(slot, SLOT_POLL_MS);
          if (late(wait, deadline))
            throw limited(
              'every process together has the calls in flight the platform allows, past the request deadline',
            );
          await sleep(wait);
        }
      };
    }

    // The slots calls hold, to give back on release; a list, should one call object run twice.
    const held = new WeakMap<UpstreamCall, HeldSlot[]>();
    return {
      acquire: async (call: UpstreamCall, deadline: number) => {
        await local.acquire(call, deadline);
        try {
          const slot = await take(call, deadline);
          if (slot) held.set(call, [...(held.get(call) ?? []), slot]);
        } catch (error) {
          // Not sent: the local throttle frees what it holds (a concurrency slot) and serves the next.
          local.release(call, undefined);
          throw error;
        }
      },
      release: (call: UpstreamCall, outcome: ThrottleOutcome | undefined) => {
        const slots = held.get(call);
        const slot = slots?.shift();
        if (slots && slots.length === 0) held.delete(call);
        void slot?.release();
        local.release(call, outcome);
      },
      ...(local.budget ? { budget: (now: number) => local.budget?.(now) } : {}),
    };
  }
}
