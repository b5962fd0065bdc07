import { createHash } from 'node:crypto';
import type { UpstreamThrottle } from './client.js';
import type { SharedBudgets, SharedLimit } from './shared-budget.js';

/**
 * One throttle per platform account in a process. A platform limits the account, not the
 * connection: when `npm start` runs a subgraph's reads, a sync's bulk writes and the routing
 * rules' actions against the same account, each through a connector of its own, they must spend
 * one budget, or together they trip the 429s each alone would avoid. Connectors lease their
 * throttle here instead of building their own; background calls (sync writes) then queue behind
 * interactive ones in the one throttle (QueuedThrottle's reserve). Across processes (several
 * gateway or subgraph instances, sync workers), the budget is shared through Redis when the
 * process was told to (`shareAccountBudgets`, when REDIS_URL is configured): the connector's
 * throttle wraps each limit it can share in a SharedBudgets one (shared-budget.ts).
 *
 * A throttle lives while a connector holds a lease on it: stacks built and closed one after
 * another in one process (tests, benchmarks) never inherit each other's learned limits.
 */
const throttles = new Map<string, { throttle: object; leases: number }>();

let sharedBudgets: SharedBudgets | undefined;

/**
 * From now on, throttles built for an account also spend a budget in Redis that every process
 * configured the same way shares (`undefined`: back to one budget per process). Throttles already
 * leased keep what they were built with.
 */
export function shareAccountBudgets(budgets: SharedBudgets | undefined): void {
  sharedBudgets = budgets;
}

/**
 * What a throttle's builder is given: wraps one of its limits (a window of `max` calls) so that
 * every process spends it together; returns the throttle as it is when budgets are not shared.
 */
export type ShareLimit = (local: UpstreamThrottle, limit: SharedLimit) => UpstreamThrottle;

export interface AccountKey {
  platform: string;
  /** Where the platform answers: the real API or a sandbox on its own port. */
  baseUrl: string;
  /** The account the limit applies to (a list, ad account, shop, portal); hashed, never kept. */
  account: string;
  /** The plan's limits: connectors of one account with different plans do not share. */
  limits: unknown;
}

export interface ThrottleLease<T> {
  throttle: T;
  /** The connector closed; the last release forgets the throttle. Idempotent. */
  release(): void;
}

/** The account's throttle, built on first lease; `given` (a caller's own throttle) is used as is. */
export function leaseAccountThrottle<T extends object>(
  given: T | undefined,
  key: AccountKey,
  build: (share: ShareLimit) => T,
): ThrottleLease<T> {
  if (given) return { throttle: given, release: () => undefined };
  const id = createHash('sha256')
    .update(JSON.stringify([key.platform, key.baseUrl, key.account, key.limits]))
    .digest('base64url');
  const budgets = sharedBudgets;
  const share: ShareLimit = budgets
    ? (local, limit) => budgets.wrap(local, key.platform, id, limit)
    : (local) => local;
  const entry = throttles.get(id) ?? { throttle: build(share), leases: 0 };
  entry.leases += 1;
  throttles.set(id, entry);
  let released = false;
  return {
    throttle: entry.throttle as T,
    release() {
      if (released) return;
      released = true;
      entry.leases -= 1;
      if (entry.leases === 0 && throttles.get(id) === entry) throttles.delete(id);
    },
  };
}
