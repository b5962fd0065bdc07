import type { RollingWindow } from '../../../sandboxes/kit/limits.js';

/**
 * Meta's business-use-case (BUC) rate limiting for Ads Insights, as the headers report it: usage is
 * a percentage of the ad account's hourly budget, throttling starts at 100, and
 * `estimated_time_to_regain_access` says in minutes when calls will be let through again.
 */

export interface InsightsUsage {
  /** Calls in the last rolling hour as a percentage of the budget, 0..100. */
  percent: number;
  /** Whole minutes until the oldest call leaves the window; 0 while there is budget left. */
  minutesToRegainAccess: number;
}

export function insightsUsage(window: RollingWindow, oldestExpiresInMs: number): InsightsUsage {
  const percent = Math.min(100, Math.round((window.used() / window.max) * 100));
  return {
    percent,
    minutesToRegainAccess: percent >= 100 ? Math.max(1, Math.ceil(oldestExpiresInMs / 60_000)) : 0,
  };
}

/** `X-Business-Use-Case-Usage` and `X-FB-Ads-Insights-Throttle` for one ad account. */
export function usageHeaders(adAccountId: string, usage: InsightsUsage): Record<string, string> {
  return {
    'x-business-use-case-usage': JSON.stringify({
      [adAccountId]: [
        {
          type: 'ads_insights',
          call_count: usage.percent,
          total_cputime: usage.percent,
          total_time: usage.percent,
          estimated_time_to_regain_access: usage.minutesToRegainAccess,
          ads_api_access_tier: 'standard_access',
        },
      ],
    }),
    'x-fb-ads-insights-throttle': JSON.stringify({
      app_id_util_pct: usage.percent,
      acc_id_util_pct: usage.percent,
      ads_api_access_tier: 'standard_access',
    }),
  };
}
