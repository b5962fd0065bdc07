import type { RollingWindow } from '../../../sandboxes/kit/limits.js';

/**
 * Meta's rate limiting as the headers report it. Business-use-case (BUC) budgets (Ads Insights,
 * custom audiences) are per ad account and reported in `X-Business-Use-Case-Usage`: usage is a
 * percentage of the budget, throttling starts at 100, and `estimated_time_to_regain_access` says
 * in minutes when calls will be let through again. The app-level budget is reported in
 * `X-App-Usage`, percentages only.
 */

export interface BudgetUsage {
  /** Calls in the rolling window as a percentage of the budget, 0..100. */
  percent: number;
  /** Whole minutes until the oldest call leaves the window; 0 while there is budget left. */
  minutesToRegainAccess: number;
}

/** The business-use-case types the sandbox counts (Meta has more: pages, instagram, ...). */
export type BusinessUseCase = 'ads_insights' | 'custom_audience';

export function budgetUsage(window: RollingWindow, oldestExpiresInMs: number): BudgetUsage {
  const percent = Math.min(100, Math.round((window.used() / window.max) * 100));
  return {
    percent,
    minutesToRegainAccess: percent >= 100 ? Math.max(1, Math.ceil(oldestExpiresInMs / 60_000)) : 0,
  };
}

/**
 * Spends one call of a budget. A call that takes the last slot reports when access comes back (a
 * full window refuses without recording, so asking it again reads when the oldest call leaves).
 */
export function spend(window: RollingWindow): { ok: boolean; usage: BudgetUsage } {
  const taken = window.take();
  const regainInMs = taken.ok && taken.remaining === 0 ? window.take().retryAfterMs : taken.retryAfterMs;
  return { ok: taken.ok, usage: budgetUsage(window, regainInMs) };
}

/** `X-Business-Use-Case-Usage` for one ad account and use case. */
export function businessUseCaseHeader(
  adAccountId: string,
  type: BusinessUseCase,
  usage: BudgetUsage,
): Record<string, string> {
  return {
    'x-business-use-case-usage': JSON.stringify({
      [adAccountId]: [
        {
          type,
          call_count: usage.percent,
          total_cputime: usage.percent,
          total_time: usage.percent,
          estimated_time_to_regain_access: usage.minutesToRegainAccess,
          ads_api_access_tier: 'standard_access',
        },
      ],
    }),
  };
}

/** `X-Business-Use-Case-Usage` and `X-FB-Ads-Insights-Throttle` for one ad account's insights. */
export function usageHeaders(adAccountId: string, usage: BudgetUsage): Record<string, string> {
  return {
    ...businessUseCaseHeader(adAccountId, 'ads_insights', usage),
    'x-fb-ads-insights-throttle': JSON.stringify({
      app_id_util_pct: usage.percent,
      acc_id_util_pct: usage.percent,
      ads_api_access_tier: 'standard_access',
    }),
  };
}

/** `X-App-Usage`: the app's share of its platform budget, in percent (no time to regain access). */
export function appUsageHeader(usage: BudgetUsage): Record<string, string> {
  return {
    'x-app-usage': JSON.stringify({
      call_count: usage.percent,
      total_cputime: usage.percent,
      total_time: usage.percent,
    }),
  };
}
