import type { RequestContext } from '../request-context.js';
import { withinDeadline } from './deadline.js';

interface Pending<V> {
  ctx: RequestContext;
  keys: string[];
  resolve: (values: Map<string, V>) => void;
  reject: (error: unknown) => void;
}

export interface CoalescerOptions<V> {
  /** Most keys one upstream call takes (HubSpot batch read: 100). */
  maxBatch: number;
  /** How long the first key waits for others to join its call, asked at each wait. @default () => 2 */
  delayMs?: () => number;
  /**
   * Batch calls in flight at once, asked at each flush. While they are out (or queued behind the
   * platform's rate limit) new keys gather into the next call, so the busier the platform, the
   * fuller each call; a caller that finds them all out waits a whole round trip. @default () => 2
   */
  maxInFlight?: () => number;
  /** Reads a batch; every key asked must be in the answer. */
  fetch(ctx: RequestContext, keys: readonly string[]): Promise<Map<string, V>>;
  /** What a caller gets when its own deadline passes before the shared call answers. */
  expired(ctx: RequestContext): Error;
}

/**
 * Joins look-ups from concurrent requests into shared batch calls. Per-request DataLoaders batch
 * within one GraphQL request; this batches across requests, so fifty personalization look-ups
 * arriving together cost one HubSpot batch read instead of fifty. The shared call runs under the
 * latest deadline of the requests in it (so a client with a short deadline does not cut it short
 * for the others), each caller gives up at its own deadline, and it logs with that request's id.
 */
export class Coalescer<V> {
  private queue: Pending<V>[] = [];
  private queuedKeys = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;

  constructor(private readonly options: CoalescerOptions<V>) {}

  load(ctx: RequestContext, keys: readonly string[]): Promise<Map<string, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    const joined = new Promise<Map<string, V>>((resolve, reject) => {
      this.queue.push({ ctx, keys: [...keys], resolve, reject });
      this.queuedKeys += keys.length;
      if (this.queuedKeys >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.delayMs?.() ?? 2);
    });
    return withinDeadline(ctx, joined, () => this.options.expired(ctx));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 || this.inFlight >= (this.options.maxInFlight?.() ?? 2)) return;
    // One call's worth of callers (a single caller asking more than a call holds goes alone and is
    // split into several calls in `run`); the rest wait for a free slot.
    const seen = new Set<string>();
    let taken = 0;
    while (taken < this.queue.length) {
      const next = this.queue[taken] as Pending<V>;
      const merged = new Set([...seen, ...next.keys]);
      if (taken > 0 && merged.size > this.options.maxBatch) break;
      for (const k of next.keys) seen.add(k);
      taken += 1;
    }
    const members = this.queue.splice(0, taken);
    this.queuedKeys = this.queue.reduce((sum, p) => sum + p.keys.length, 0);
    this.inFlight += 1;
    void this.run(members, [...seen]).finally(() => {
      this.inFlight -= 1;
      this.flush();
    });
    if (this.queue.length > 0) this.flush();
  }

  private async run(members: Pending<V>[], keys: string[]): Promise<void> {
    const latest = members.reduce((a, b) => (b.ctx.deadline > a.ctx.deadline ? b : a));
    try {
      const answers = new Map<string, V>();
      for (let i = 0; i < keys.length; i += this.options.maxBatch) {
        const chunk = await this.options.fetch(latest.ctx, keys.slice(i, i + this.options.maxBatch));
        for (const [k, v] of chunk) answers.set(k, v);
      }
      for (const member of members) member.resolve(new Map(member.keys.map((k) => [k, answers.get(k) as V])));
    } catch (error) {
      for (const member of members) member.reject(error);
    }
  }
}
