/**
 * The rate-limit algorithms platforms use, as small state machines with an injectable clock.
 * Each platform sandbox composes them and writes its own headers and error bodies.
 */

export type Clock = () => number;

/** At most `max` requests in any `windowMs` (HubSpot's ten-secondly rolling limit). */
export class RollingWindow {
  private readonly stamps: number[] = [];
  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: Clock = Date.now,
  ) {}

  private prune(t: number): void {
    while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= t - this.windowMs) this.stamps.shift();
  }

  /** Takes one slot if there is one. `retryAfterMs` is when the oldest slot frees up. */
  take(): { ok: boolean; remaining: number; retryAfterMs: number } {
    const t = this.now();
    this.prune(t);
    if (this.stamps.length >= this.max) {
      return { ok: false, remaining: 0, retryAfterMs: (this.stamps[0] ?? t) + this.windowMs - t };
    }
    this.stamps.push(t);
    return { ok: true, remaining: this.max - this.stamps.length, retryAfterMs: 0 };
  }

  used(): number {
    this.prune(this.now());
    return this.stamps.length;
  }
}

/** A bucket of `capacity` that drains `leakPerSecond` (Shopify REST). Each request adds one. */
export class LeakyBucket {
  private level = 0;
  private updatedAt: number;
  constructor(
    readonly capacity: number,
    readonly leakPerSecond: number,
    private readonly now: Clock = Date.now,
  ) {
    this.updatedAt = now();
  }

  private drain(): void {
    const t = this.now();
    this.level = Math.max(0, this.level - ((t - this.updatedAt) / 1000) * this.leakPerSecond);
    this.updatedAt = t;
  }

  add(): { ok: boolean; level: number } {
    this.drain();
    if (this.level + 1 > this.capacity) return { ok: false, level: Math.ceil(this.level) };
    this.level += 1;
    return { ok: true, level: Math.ceil(this.level) };
  }
}

/** At most `max` requests in flight at once (Mailchimp's simultaneous connections). */
export class ConcurrencyCap {
  private inFlight = 0;
  constructor(readonly max: number) {}

  enter(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight += 1;
    return true;
  }

  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  get current(): number {
    return this.inFlight;
  }
}
