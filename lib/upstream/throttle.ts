import { UpstreamError, type Platform } from '../errors.js';
import type { ResponseHeaders, UpstreamCall, UpstreamThrottle } from './client.js';

/**
 * A platform's limit as a small state machine over time. The throttle asks it when the next call
 * may start; the platform's responses tell it how much budget is really left.
 */
export interface LimitPolicy {
  /** In words, for errors and docs: "100 requests per 10 s". */
  readonly description: string;
  /** Milliseconds until one more call may start (0 = now, Infinity = when a call finishes). */
  delayMs(now: number): number;
  /** Roughly how long the waiter at `position` (0 = next) will wait; used to fail fast. */
  estimateMs(now: number, position: number): number;
  /** A call started. */
  take(now: number): void;
  /** A call finished (concurrency limits free their slot here). */
  finish?(now: number): void;
  /** What the platform said about the remaining budget, read from a response. */
  observe?(headers: ResponseHeaders, status: number, now: number): void;
  /** Calls that could start now (`free`) out of the limit's size (`of`); background calls read it. */
  available?(now: number): { free: number; of: number };
}

interface Waiter {
  deadline: number;
  resolve: () => void;
  reject: (error: UpstreamError) => void;
}

export interface QueuedThrottleOptions {
  platform: Platform;
  policy: LimitPolicy;
  /** Calls allowed to wait at once; more fail fast. @default 1000 */
  maxQueue?: number;
  /** A call must be able to start this long before its deadline to be worth waiting for. @default 250 */
  marginMs?: number;
  /**
   * Share of the limit background calls leave free for interactive ones (at least one slot when the
   * limit has more than one). @default 0.1
   */
  backgroundReserve?: number;
}

/**
 * Client-side flow control for one platform account: calls queue in order rather than fail, the
 * queue is bounded, and a call whose wait would run past its request's deadline fails at once with
 * UPSTREAM_RATE_LIMITED instead of waiting to fail. Background calls (`UpstreamCall.priority`)
 * queue apart: they start only when no interactive call waits and the limit still has more than
 * its reserve free, so bulk writes never crowd out a user's query.
 */
export class QueuedThrottle implements UpstreamThrottle {
  private readonly queue: Waiter[] = [];
  private readonly background: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private blockedUntil = 0;
  readonly policy: LimitPolicy;

  constructor(private readonly options: QueuedThrottleOptions) {
    this.policy = options.policy;
  }

  get waiting(): number {
    return this.queue.length + this.background.length;
  }

  budget(now: number): { free: number; of: number } | undefined {
    return this.policy.available?.(now);
  }

  /** Slots background calls leave to interactive ones; none when the policy cannot say. */
  private reserve(now: number): number {
    const available = this.policy.available?.(now);
    if (!available || available.of <= 1) return 0;
    return Math.max(1, Math.floor(available.of * (this.options.backgroundReserve ?? 0.1)));
  }

  /** Milliseconds until a background call may start (0 = now). */
  private backgroundDelay(now: number): number {
    const delay = this.delay(now);
    if (delay > 0) return delay;
    const reserve = this.reserve(now);
    if (reserve === 0) return 0;
    const free = this.policy.available?.(now).free ?? Infinity;
    if (free > reserve) return 0;
    // When the slot past the reserve frees up; concurrency limits say so on release.
    return Math.max(1, this.policy.estimateMs(now, reserve));
  }

  private limited(message: string, retryAfterMs?: number): UpstreamError {
    return new UpstreamError(`${this.options.platform}: ${message} (limit: ${this.policy.description})`, {
      platform: this.options.platform,
      code: 'UPSTREAM_RATE_LIMITED',
      upstreamCode: 'CLIENT_THROTTLE',
      retryable: false,
      ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 100) / 10 } : {}),
    });
  }

  private delay(now: number): number {
    return Math.max(this.policy.delayMs(now), this.blockedUntil - now);
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    const now = Date.now();
    const margin = this.options.marginMs ?? 250;
    const background = call.priority === 'background';
    const queue = background ? this.background : this.queue;
    const ahead = background ? this.queue.length + this.background.length : this.queue.length;
    const ready = background ? this.backgroundDelay(now) <= 0 : this.delay(now) <= 0;
    if (ahead === 0 && ready) {
      this.policy.take(now);
      return Promise.resolve();
    }
    if (queue.length >= (this.options.maxQueue ?? 1000)) {
      return Promise.reject(this.limited(`${queue.length} calls are already waiting for the rate limit`));
    }
    const position = ahead + (background ? this.reserve(now) : 0);
    const estimate = Math.max(this.policy.estimateMs(now, position), this.blockedUntil - now);
    if (now + estimate > deadline - margin) {
      return Promise.reject(
        this.limited(
          `the rate limit would delay this call about ${Math.round(estimate)} ms, past the request deadline`,
          estimate,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      queue.push({ deadline: deadline - margin, resolve, reject });
      this.schedule();
    });
  }

  release(_call: UpstreamCall, outcome: { status: number; headers: ResponseHeaders } | undefined): void {
    const now = Date.now();
    this.policy.finish?.(now);
    if (outcome) {
      this.policy.observe?.(outcome.headers, outcome.status, now);
      if (outcome.status === 429) {
        const retryAfter = Number(
          Array.isArray(outcome.headers['retry-after'])
            ? outcome.headers['retry-after'][0]
            : outcome.headers['retry-after'],
        );
        if (Number.isFinite(retryAfter) && retryAfter > 0) this.blockUntil(now + retryAfter * 1000);
      }
    }
    this.schedule();
  }

  /** Holds every call until `until` (a platform said "come back later"). */
  blockUntil(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = Date.now();
    // Interactive calls first; background ones only once none waits, and only past the reserve.
    const wake = this.serve(this.queue, now, () => this.delay(now));
    const wakeBackground =
      this.queue.length === 0 ? this.serve(this.background, now, () => this.backgroundDelay(now)) : Infinity;
    const next = Math.min(wake, wakeBackground);
    if (Number.isFinite(next)) {
      this.timer = setTimeout(() => this.schedule(), Math.max(1, next));
      this.timer.unref?.();
    }
  }

  /**
   * Starts the waiters of `queue` that may start now and fails those past their deadline; answers
   * how long until it should be looked at again (Infinity: when a call finishes, or never).
   */
  private serve(queue: Waiter[], now: number, delay: () => number): number {
    while (queue.length > 0) {
      const head = queue[0] as Waiter;
      if (now > head.deadline) {
        queue.shift();
        head.reject(this.limited('waited for the rate limit until the request deadline'));
        continue;
      }
      const wait = delay();
      if (wait <= 0) {
        queue.shift();
        this.policy.take(now);
        head.resolve();
        continue;
      }
      // Concurrency limits answer Infinity: the next release() wakes the queue. Wake anyway at the
      // head's deadline so it fails on time.
      return Math.min(wait, head.deadline - now + 1);
    }
    return Infinity;
  }
}

/** At most `max` calls in any `windowMs` (HubSpot's rolling ten-second limit, Meta's hourly budget). */
export class SlidingWindowPolicy implements LimitPolicy {
  private readonly stamps: number[] = [];
  private limit: number;
  private readonly label: string | undefined;

  /**
   * @param marginMs added to the window on our side: the platform stamps a call when it arrives,
   * a little after we send it, so a slot we see free at exactly `windowMs` may not be free yet.
   */
  constructor(
    max: number,
    readonly windowMs: number,
    description?: string,
    private readonly marginMs = 0,
  ) {
    this.limit = max;
    this.label = description;
  }

  private get span(): number {
    return this.windowMs + this.marginMs;
  }

  get max(): number {
    return this.limit;
  }

  get description(): string {
    return this.label ?? `${this.limit} requests per ${this.windowMs / 1000} s`;
  }

  /** The platform reports a lower limit than configured (another plan, a shared app): use it. */
  lowerMax(max: number): void {
    if (max >= 1 && max < this.limit) this.limit = max;
  }

  private prune(now: number): void {
    while (this.stamps.length > 0 && (this.stamps[0] as number) <= now - this.span) this.stamps.shift();
  }

  get used(): number {
    this.prune(Date.now());
    return this.stamps.length;
  }

  available(now: number): { free: number; of: number } {
    this.prune(now);
    return { free: Math.max(0, this.max - this.stamps.length), of: this.max };
  }

  delayMs(now: number): number {
    this.prune(now);
    if (this.stamps.length < this.max) return 0;
    return (this.stamps[this.stamps.length - this.max] as number) + this.span - now;
  }

  estimateMs(now: number, position: number): number {
    this.prune(now);
    const index = this.stamps.length + position - this.max;
    if (index < 0) return 0;
    if (index < this.stamps.length) return (this.stamps[index] as number) + this.span - now;
    return this.span * (1 + Math.floor((index - this.stamps.length) / this.max));
  }

  take(now: number): void {
    this.stamps.push(now);
  }

  /** The platform counted more calls than we did (another process, another app): catch up. */
  markUsed(used: number, now: number): void {
    this.prune(now);
    while (this.stamps.length < Math.min(used, this.max)) this.stamps.push(now);
  }
}

/** A bucket of `capacity` that drains `leakPerSecond`; each call adds one (Shopify REST). */
export class LeakyBucketPolicy implements LimitPolicy {
  private level = 0;
  private updatedAt = 0;
  readonly description: string;

  constructor(
    readonly capacity: number,
    readonly leakPerSecond: number,
  ) {
    this.description = `a bucket of ${capacity} calls leaking ${leakPerSecond} per second`;
  }

  private drain(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.level = Math.max(0, this.level - (elapsed / 1000) * this.leakPerSecond);
    this.updatedAt = Math.max(this.updatedAt, now);
  }

  available(now: number): { free: number; of: number } {
    this.drain(now);
    return { free: Math.max(0, Math.floor(this.capacity - this.level)), of: this.capacity };
  }

  delayMs(now: number): number {
    this.drain(now);
    return this.level + 1 <= this.capacity
      ? 0
      : ((this.level + 1 - this.capacity) / this.leakPerSecond) * 1000;
  }

  estimateMs(now: number, position: number): number {
    this.drain(now);
    return Math.max(0, ((this.level + position + 1 - this.capacity) / this.leakPerSecond) * 1000);
  }

  take(now: number): void {
    this.drain(now);
    this.level += 1;
  }

  /** The platform reported the bucket's level (`X-Shopify-Shop-Api-Call-Limit: 32/40`). */
  markLevel(level: number, now: number): void {
    this.drain(now);
    this.level = Math.max(this.level, level);
  }
}

/** At most `max` calls in flight (Mailchimp's simultaneous connections). */
export class ConcurrencyPolicy implements LimitPolicy {
  private inFlight = 0;
  private averageMs = 200;
  private readonly started: number[] = [];
  readonly description: string;

  constructor(readonly max: number) {
    this.description = `${max} simultaneous connections`;
  }

  delayMs(): number {
    return this.inFlight < this.max ? 0 : Infinity;
  }

  available(): { free: number; of: number } {
    return { free: Math.max(0, this.max - this.inFlight), of: this.max };
  }

  estimateMs(_now: number, position: number): number {
    const free = this.max - this.inFlight;
    return position < free ? 0 : this.averageMs * Math.ceil((position - free + 1) / this.max);
  }

  take(now: number): void {
    this.inFlight += 1;
    this.started.push(now);
  }

  finish(now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const start = this.started.shift();
    // A running average of call durations, so the fail-fast estimate follows the platform's speed.
    if (start !== undefined) this.averageMs = this.averageMs * 0.8 + (now - start) * 0.2;
  }
}

/** Sends each call to the throttle of the limit it counts against (HubSpot search has its own). */
export class RoutedThrottle implements UpstreamThrottle {
  constructor(
    private readonly routes: readonly {
      matches: (call: UpstreamCall) => boolean;
      throttle: UpstreamThrottle;
    }[],
    private readonly fallback: UpstreamThrottle,
  ) {}

  private pick(call: UpstreamCall): UpstreamThrottle {
    return this.routes.find((r) => r.matches(call))?.throttle ?? this.fallback;
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    return this.pick(call).acquire(call, deadline);
  }

  release(call: UpstreamCall, outcome: { status: number; headers: ResponseHeaders } | undefined): void {
    this.pick(call).release(call, outcome);
  }
}

/** Reads one header as a string, whatever shape the HTTP client gave it. */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
