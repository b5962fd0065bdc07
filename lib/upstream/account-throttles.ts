import { createHash } from 'node:crypto';

/**
 * One throttle per platform account in a process. A platform limits the account, not the
 * connection: when `npm start` runs a subgraph's reads, a sync's bulk writes and the routing
 * rules' actions against the same account, each through a connector of its own, they must spend
 * one budget, or together they trip the 429s each alone would avoid. Connectors lease their
 * throttle here instead of building their own; background calls (sync writes) then queue behind
 * interactive ones in the one throttle (QueuedThrottle's reserve). Processes do not share: a
 * worker's calls and a subgraph's are limited apart (the platform's headers and 429s slow both).
 *
 * A throttle lives while a connector holds a lease on it: stacks built and closed one after
 * another in one process (tests, benchmarks) never inherit each other's learned limits.
 */
const throttles = new Map<string, { throttle: object; leases: number }>();

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
  build: () => T,
): ThrottleLease<T> {
  if (given) return { throttle: given, release: () => undefined };
  const id = createHash('sha256')
    .update(JSON.stringify([key.platform, key.baseUrl, key.account, key.limits]))
    .digest('base64url');
  const entry = throttles.get(id) ?? { throttle: build(), leases: 0 };
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
