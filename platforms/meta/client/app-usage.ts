import type { ResponseHeaders } from '../../../lib/upstream/client.js';
import type { BudgetSpec, UsagePolicy } from './limits.js';

/**
 * The window of a budget Meta reports only as a percentage, with no time to regain access (the
 * app's `X-App-Usage`, which Conversions API calls spend). Two things differ from a plain window:
 *
 * - The real budget is worked out from the answers: k of our calls in the window at p % is about
 *   100·k/p calls. k counts only calls that started within the window before the answer (Meta
 *   counted each of them: it read them after they started) and p is taken half a point high
 *   (Meta rounds it), so the estimate errs low, never high. At 100 % the window is full with the
 *   calls we made, so the next waits for our oldest to leave it; under 10 % the share is too
 *   coarse to learn from and there is plenty left, so the configured budget applies again.
 * - A call holds its slot while in flight and for the window after it finished, not after it
 *   started: Meta counts a call when it has read it, which for a 1,000-event body can be well
 *   after we started sending, and a window that ends early is a refusal.
 */
export class AppUsagePolicy implements UsagePolicy {
  /** When our finished calls finished, oldest first. */
  private readonly finished: number[] = [];
  /** When our calls started, oldest first, for the last window: those Meta counts for sure. */
  private readonly started: number[] = [];
  private inFlight = 0;
  private cap = Infinity;
  readonly description: string;

  constructor(
    private readonly spec: BudgetSpec,
    private readonly marginMs: number,
  ) {
    this.description = spec.description;
  }

  private get span(): number {
    return this.spec.windowMs + this.marginMs;
  }

  get max(): number {
    return Math.min(this.spec.max, this.cap);
  }

  private prune(now: number): void {
    while (this.finished.length > 0 && (this.finished[0] as number) <= now - this.span) this.finished.shift();
  }

  get used(): number {
    this.prune(Date.now());
    return this.finished.length + this.inFlight;
  }

  available(now: number): { free: number; of: number } {
    this.prune(now);
    return { free: Math.max(0, this.max - this.finished.length - this.inFlight), of: this.max };
  }

  delayMs(now: number): number {
    this.prune(now);
    const index = this.finished.length + this.inFlight - this.max;
    if (index < 0) return 0;
    // Only calls still in flight stand in the way: the next one to finish wakes the queue.
    return index < this.finished.length ? (this.finished[index] as number) + this.span - now : Infinity;
  }

  estimateMs(now: number, position: number): number {
    this.prune(now);
    const index = this.finished.length + this.inFlight + position - this.max;
    if (index < 0) return 0;
    if (index < this.finished.length) return (this.finished[index] as number) + this.span - now;
    // Behind calls in flight: each holds its slot for a window once it finishes.
    return this.span * (1 + Math.floor((index - this.finished.length) / this.max));
  }

  take(now: number): void {
    this.inFlight += 1;
    this.started.push(now);
  }

  finish(now: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.finished.push(now);
  }

  markUsed(used: number, now: number): void {
    this.prune(now);
    while (this.finished.length + this.inFlight < Math.min(used, this.max)) this.finished.push(now);
  }

  observe(headers: ResponseHeaders, _status: number, now: number): void {
    const usage = this.spec.usage(headers);
    if (!usage) return;
    while (this.started.length > 0 && (this.started[0] as number) <= now - this.spec.windowMs)
      this.started.shift();
    const counted = this.started.length;
    if (usage.percent >= 100) this.cap = Math.max(1, counted);
    else if (usage.percent >= 10)
      this.cap = Math.max(counted + 1, Math.round((counted * 100) / (usage.percent + 0.5)));
    else this.cap = Infinity;
  }
}
