import type { ShareLimit } from '../../../lib/upstream/account-throttles.js';
import type { ResponseHeaders, UpstreamThrottle } from '../../../lib/upstream/client.js';
import { header, LeakyBucketPolicy, QueuedThrottle } from '../../../lib/upstream/throttle.js';

/** Shopify's published REST limit for one app in one store (admin-rest/usage/rate-limits). */
export interface ShopifyLimits {
  /** Calls the leaky bucket holds: Standard 40, Plus 400. @default 40 */
  bucketSize: number;
  /** Calls per second the bucket drains: Standard 2, Advanced 4, Plus 20. @default 2 */
  leakPerSecond: number;
}

export const SHOPIFY_DEFAULT_LIMITS: ShopifyLimits = { bucketSize: 40, leakPerSecond: 2 };

const CALL_LIMIT = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/**
 * The leaky bucket, corrected by what Shopify says is in it. `X-Shopify-Shop-Api-Call-Limit: 32/40`
 * counts every app of the store and may name a smaller bucket than configured, so the free room it
 * reports (8 here) is what this client keeps: its level becomes its own capacity minus that room.
 */
class CallLimitPolicy extends LeakyBucketPolicy {
  observe(headers: ResponseHeaders, status: number, now: number): void {
    const reported = CALL_LIMIT.exec(header(headers, 'x-shopify-shop-api-call-limit') ?? '');
    if (reported) {
      const room = Math.max(0, Number(reported[2]) - Number(reported[1]));
      this.markLevel(this.capacity - room, now);
    } else if (status === 429) this.markLevel(this.capacity, now);
  }
}

/**
 * Calls of the bucket this client leaves unused. Shopify drains its bucket from when each call
 * arrives, this client from when it sends: a burst that reaches the store late (a busy event loop,
 * a slow network) leaves Shopify's bucket fuller than this client's count for a moment, and the next
 * call would get a 429. One call of headroom absorbs half a second of such lag at the standard 2
 * calls per second (seen on a loaded 2-core CI machine: test/connectors/shopify-limits.test.ts).
 */
const HEADROOM_CALLS = 1;

/**
 * Shopify REST flow control: one FIFO queue per store in front of the bucket. A 429's `Retry-After`
 * holds every queued call (QueuedThrottle.release does that for any 429 with the header).
 */
export function shopifyThrottle(
  limits: ShopifyLimits,
  share: ShareLimit = (local) => local,
): UpstreamThrottle {
  const capacity = Math.max(1, limits.bucketSize - HEADROOM_CALLS);
  const local = new QueuedThrottle({
    platform: 'shopify',
    policy: new CallLimitPolicy(capacity, limits.leakPerSecond),
  });
  // Shared by processes as a window: at most `capacity` calls in the time the bucket takes to drain
  // them can never overflow it, whatever the interval (a longer one is a run of such windows).
  return share(local, {
    name: 'bucket',
    max: capacity,
    windowMs: Math.ceil((capacity / limits.leakPerSecond) * 1000),
  });
}
