import type { RequestContext } from '../request-context.js';

interface Pending<V> {
  ctx: RequestContext;
  keys: string[];
  resolve: (values: Map<string, V>) => void;
  reject: (error: unknown) => void;
}

export interface CoalescerOptions<V> {
  /** Most keys one upstream call takes (HubSpot batch read: 100). */
  maxBatch: number;
  /** How long the first key waits for others to join its call. @default 2 */
  windowMs?: number;
  /** Reads a batch; every key asked must be in the answer. */
  fetch(ctx: RequestContext, keys: readonly string[]): Promise<Map<string, V>>;
}

/**
 * Joins look-ups from concurrent requests into shared batch calls. Per-request DataLoaders batch
 * within one GraphQL request; this batches across requests, so fifty personalization look-ups
 * arriving together cost one HubSpot batch read instead of fifty. The shared call runs under the
 * earliest deadline of the requests in it, and logs with the first request's id.
 */
export class Coalescer<V> {
  private queue: Pending<V>[] = [];
  private queuedKeys = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CoalescerOptions<V>) {}

  load(ctx: RequestContext, keys: readonly string[]): Promise<Map<string, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.queue.push({ ctx, keys: [...keys], resolve, reject });
      this.queuedKeys += keys.length;
      if (this.queuedKeys >= this.options.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs ?? 2);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.queue;
    this.queue = [];
    this.queuedKeys = 0;
    // Pack callers into calls of at most maxBatch distinct keys; a caller never spans two calls
    // unless it alone asks for more than one call holds.
    let group: Pending<V>[] = [];
    let keys = new Set<string>();
    const groups: { members: Pending<V>[]; keys: Set<string> }[] = [];
    for (const pending of waiting) {
      const merged = new Set([...keys, ...pending.keys]);
      if (group.length > 0 && merged.size > this.options.maxBatch) {
        groups.push({ members: group, keys });
        group = [];
        keys = new Set(pending.keys);
      } else {
        keys = merged;
      }
      group.push(pending);
    }
    if (group.length > 0) groups.push({ members: group, keys });
    for (const { members, keys: batch } of groups) void this.run(members, [...batch]);
  }

  private async run(members: Pending<V>[], keys: string[]): Promise<void> {
    const earliest = members.reduce((a, b) => (b.ctx.deadline < a.ctx.deadline ? b : a));
    try {
      const answers = new Map<string, V>();
      for (let i = 0; i < keys.length; i += this.options.maxBatch) {
        const chunk = await this.options.fetch(earliest.ctx, keys.slice(i, i + this.options.maxBatch));
        for (const [k, v] of chunk) answers.set(k, v);
      }
      for (const member of members) member.resolve(new Map(member.keys.map((k) => [k, answers.get(k) as V])));
    } catch (error) {
      for (const member of members) member.reject(error);
    }
  }
}
