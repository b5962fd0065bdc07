import type { z } from 'zod';
import type { ResponseHeaders } from '../../../lib/upstream/client.js';
import { header } from '../../../lib/upstream/throttle.js';
import { adsInsightsThrottle, appUsage, businessUseCaseUsage } from './schemas.js';

/**
 * What Meta says about a budget (the ad account's Ads Insights or custom audience budget, the app's
 * own), read from the usage headers it sends with every answer (successes and refusals alike).
 * Headers are advice, not payload: one that is absent or unreadable is ignored rather than failing
 * the call it came with.
 */
export interface BudgetUsage {
  /** The highest share of the budget Meta reports as spent, in percent (throttling starts at 100). */
  percent: number;
  /** Milliseconds until Meta lets insights calls through again; 0 while there is budget left. */
  regainAccessMs: number;
}

/** A header holding JSON, parsed with `schema`; undefined when absent or not what is documented. */
export function jsonHeader<S extends z.ZodType>(
  headers: ResponseHeaders,
  name: string,
  schema: S,
): z.output<S> | undefined {
  const text = header(headers, name);
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Business-use-case budgets the connector spends (Meta has more: pages, instagram, ...). */
export type BusinessUseCase = 'ads_insights' | 'custom_audience';

const known = (values: readonly (number | undefined)[]) =>
  values.filter((value): value is number => value !== undefined);

/**
 * One business-use-case budget of one ad account: its entries of `X-Business-Use-Case-Usage`
 * under that account (call count, CPU time and total time each count against the budget, so the
 * highest binds; an entry without a type is taken as the budget asked about), plus any other
 * shares the caller read. Undefined when nothing says anything about it.
 */
function readBusinessUseCase(
  headers: ResponseHeaders,
  adAccountId: string,
  type: BusinessUseCase,
  otherShares: readonly (number | undefined)[] = [],
): BudgetUsage | undefined {
  const buc = jsonHeader(headers, 'x-business-use-case-usage', businessUseCaseUsage);
  const entries = (buc?.[adAccountId] ?? []).filter(
    (entry) => entry.type === undefined || entry.type === type,
  );
  const shares = known([
    ...entries.flatMap((e) => [e.call_count, e.total_cputime, e.total_time]),
    ...otherShares,
  ]);
  const minutes = known(entries.map((e) => e.estimated_time_to_regain_access));
  if (shares.length === 0 && minutes.length === 0) return undefined;
  return {
    percent: Math.max(0, ...shares),
    regainAccessMs: Math.max(0, ...minutes) * 60_000,
  };
}

/**
 * The insights usage of one ad account: its `ads_insights` business-use-case entries and the
 * account's share in `X-FB-Ads-Insights-Throttle`.
 */
export function readInsightsUsage(headers: ResponseHeaders, adAccountId: string): BudgetUsage | undefined {
  const throttle = jsonHeader(headers, 'x-fb-ads-insights-throttle', adsInsightsThrottle);
  return readBusinessUseCase(headers, adAccountId, 'ads_insights', [throttle?.acc_id_util_pct]);
}

/** The custom audience usage of one ad account (`custom_audience` business-use-case entries). */
export function readCustomAudienceUsage(
  headers: ResponseHeaders,
  adAccountId: string,
): BudgetUsage | undefined {
  return readBusinessUseCase(headers, adAccountId, 'custom_audience');
}

/**
 * The app's platform usage from `X-App-Usage` (the budget Conversions API calls count against):
 * percentages only, Meta gives no time to regain access at this level.
 */
export function readAppUsage(headers: ResponseHeaders): BudgetUsage | undefined {
  const usage = jsonHeader(headers, 'x-app-usage', appUsage);
  if (!usage) return undefined;
  const shares = known([usage.call_count, usage.total_cputime, usage.total_time]);
  return shares.length === 0 ? undefined : { percent: Math.max(0, ...shares), regainAccessMs: 0 };
}
