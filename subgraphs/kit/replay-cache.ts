import {
  GATEWAY_TOKEN_CLOCK_TOLERANCE_SECONDS,
  GATEWAY_TOKEN_MAX_LIFE_SECONDS,
} from '../../lib/auth/gateway-token.js';

export type ReplayVerdict =
  /** First sight of this token id: accepted and remembered until the token expires. */
  | { kind: 'fresh' }
  /** Seen before, and not expired: a replay. */
  | { kind: 'replayed' }
  /** Remembering one more would exceed the bound; `retryAfterSeconds` until the oldest one expires. */
  | { kind: 'full'; retryAfterSeconds: number };

export interface ReplayCacheOptions {
  /**
   * Most gateway requests per second the cache remembers; its size is this times a token's life
   * (plus clock tolerance). @default 10000 (350 000 token ids, some 35 MB at most)
   */
  maxRequestsPerSecond?: number;
  /** Seconds since the epoch; tests move it. @default the wall clock */
  now?: () => number;
}

/**
 * The token ids (`jti`) a subgraph process has accepted, each until its token can no longer
 * verify (expiry plus clock tolerance), so a captured gateway token is refused the second time.
 * Bounded: token lives are capped at 30 s, so the ids alive at once are at most the request rate
 * times that. When it is full of live ids it refuses rather than forget one early (which would
 * reopen that token to replay).
 */
export class ReplayCache {
  /** jti -> the second (since `epoch`) after which it can be forgotten; insertion order ~ expiry order. */
  private readonly seen = new Map<string, number>();
  readonly capacity: number;
  private readonly now: () => number;
  /** Stored relative to this, so the values stay small integers. */
  private readonly epoch: number;

  constructor(options: ReplayCacheOptions = {}) {
    const window = GATEWAY_TOKEN_MAX_LIFE_SECONDS + GATEWAY_TOKEN_CLOCK_TOLERANCE_SECONDS;
    this.capacity = (options.maxRequestsPerSecond ?? 10_000) * window;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.epoch = Math.floor(this.now());
  }

  get size(): number {
    return this.seen.size;
  }

  /** Accepts a token id once, until `expiresAt` (seconds since the epoch) plus the clock tolerance. */
  claim(tokenId: string, expiresAt: number): ReplayVerdict {
    const now = this.now() - this.epoch;
    this.forgetExpired(now);
    if (this.seen.has(tokenId)) return { kind: 'replayed' };
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.values().next();
      const wait = oldest.done ? 1 : Math.max(1, Math.ceil(oldest.value - now));
      return { kind: 'full', retryAfterSeconds: wait };
    }
    this.seen.set(tokenId, Math.ceil(expiresAt - this.epoch + GATEWAY_TOKEN_CLOCK_TOLERANCE_SECONDS));
    return { kind: 'fresh' };
  }

  /**
   * Drops expired ids from the front. Tokens are signed just before they are sent, so ids arrive
   * in nearly expiry order; one that outlives its neighbours only delays their removal, and the
   * capacity still bounds the map.
   */
  private forgetExpired(now: number): void {
    for (const [tokenId, forgetAt] of this.seen) {
      if (forgetAt > now) return;
      this.seen.delete(tokenId);
    }
  }
}
