/**
 * A token bucket for one endpoint's rate limit: `perSecond` tokens a second, holding at most one
 * second's worth, so an endpoint that was idle gets a burst of `perSecond` and then the steady rate.
 * Reads time from the caller, so the deliveries' clock drives it.
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = perSecond;
    this.updatedMs = nowMs;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedMs);
    this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updatedMs = nowMs;
  }

  /** Whole tokens available now. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return Math.floor(this.tokens);
  }

  take(count: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= count;
  }

  /** When the next whole token is there (now, when one is). */
  nextTokenAtMs(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return nowMs;
    return nowMs + Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }
}
