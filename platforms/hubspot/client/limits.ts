import type { ShareLimit } from '../../../lib/upstream/account-throttles.js';
import type { ResponseHeaders, UpstreamThrottle } from '../../../lib/upstream/client.js';
import {
  header,
  QueuedThrottle,
  RoutedThrottle,
  SlidingWindowPolicy,
} from '../../../lib/upstream/throttle.js';

/** HubSpot's published limits for one app in one account (usage-guidelines). */
export interface HubSpotLimits {
  /** Requests per rolling 10 s: Free/Starter 100, Pro/Enterprise 190, public OAuth apps 110. */
  per10s: number;
  /** CRM search requests per second (search answers carry no rate-limit headers). @default 5 */
  searchPerSecond: number;
}

/** Slack on our side of HubSpot's rolling window, for the time between our send and its arrival. */
const WINDOW_MARGIN_MS = 250;

export const HUBSPOT_DEFAULT_LIMITS: HubSpotLimits = { per10s: 100, searchPerSecond: 5 };

/**
 * The rolling ten-second window, corrected by what HubSpot says is left: another process or app
 * spending the same budget shows up in `X-HubSpot-RateLimit-Remaining`, and a 429 means "full".
 */
class TenSecondPolicy extends SlidingWindowPolicy {
  observe(headers: ResponseHeaders, status: number, now: number): void {
    const max = Number(header(headers, 'x-hubspot-ratelimit-max'));
    const remaining = Number(header(headers, 'x-hubspot-ratelimit-remaining'));
    if (Number.isFinite(max) && Number.isFinite(remaining)) {
      this.lowerMax(max);
      this.markUsed(this.max - remaining, now);
    } else if (status === 429) this.markUsed(this.max, now);
  }
}

export interface HubSpotFlowControl {
  throttle: UpstreamThrottle;
  /** Share of the ten-second window already spent, 0..1: how much batching is worth waiting for. */
  pressure(): number;
}

/**
 * `share` (account-throttles.ts) makes each window a budget every process spends together when
 * processes share budgets; by default each process has its own.
 */
export function hubspotThrottle(
  limits: HubSpotLimits,
  share: ShareLimit = (local) => local,
): HubSpotFlowControl {
  const window = new TenSecondPolicy(limits.per10s, 10_000, undefined, WINDOW_MARGIN_MS);
  const general = new QueuedThrottle({ platform: 'hubspot', policy: window });
  const search = new QueuedThrottle({
    platform: 'hubspot',
    policy: new SlidingWindowPolicy(
      limits.searchPerSecond,
      1_000,
      `${limits.searchPerSecond} searches per second`,
    ),
  });
  return {
    throttle: new RoutedThrottle(
      [
        {
          matches: (call) => call.endpoint.endsWith('/search'),
          throttle: share(search, { name: 'search', max: limits.searchPerSecond, windowMs: 1_000 }),
        },
      ],
      share(general, { name: 'general', max: limits.per10s, windowMs: 10_000 }),
    ),
    pressure: () => Math.min(1, (window.used + general.waiting) / window.max),
  };
}
