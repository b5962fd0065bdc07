import type { ResponseHeaders, UpstreamThrottle } from '../../lib/upstream/client.js';
import { header, QueuedThrottle, RoutedThrottle, SlidingWindowPolicy } from '../../lib/upstream/throttle.js';

/** HubSpot's published limits for one app in one account (usage-guidelines). */
export interface HubSpotLimits {
  /** Requests per rolling 10 s: Free/Starter 100, Pro/Enterprise 190, public OAuth apps 110. */
  per10s: number;
  /** CRM search requests per second (search answers carry no rate-limit headers). @default 5 */
  searchPerSecond: number;
}

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

export function hubspotThrottle(limits: HubSpotLimits): UpstreamThrottle {
  const general = new QueuedThrottle({
    platform: 'hubspot',
    policy: new TenSecondPolicy(limits.per10s, 10_000),
  });
  const search = new QueuedThrottle({
    platform: 'hubspot',
    policy: new SlidingWindowPolicy(
      limits.searchPerSecond,
      1_000,
      `${limits.searchPerSecond} searches per second`,
    ),
  });
  return new RoutedThrottle(
    [{ matches: (call) => call.endpoint.endsWith('/search'), throttle: search }],
    general,
  );
}
