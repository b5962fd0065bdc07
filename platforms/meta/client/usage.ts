import type { z } from 'zod';
import type { ResponseHeaders } from '../../../lib/upstream/client.js';
import { header } from '../../../lib/upstream/throttle.js';
import { adsInsightsThrottle, businessUseCaseUsage } from './schemas.js';

/**
 * What Meta says about the ad account's Ads Insights budget, read from the usage headers it sends
 * with every answer (successes and refusals alike). Headers are advice, not payload: one that is
 * absent or unreadable is ignored rather than failing the call it came with.
 */
export interface InsightsUsage {
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

/**
 * The insights usage of one ad account: the `ads_insights` entries of `X-Business-Use-Case-Usage`
 * under that account (call count, CPU time and total time each count against the budget, so the
 * highest binds) and the account's share in `X-FB-Ads-Insights-Throttle`. Undefined when neither
 * header says anything about the account.
 */
export function readInsightsUsage(headers: ResponseHeaders, adAccountId: string): InsightsUsage | undefined {
  const buc = jsonHeader(headers, 'x-business-use-case-usage', businessUseCaseUsage);
  const entries = (buc?.[adAccountId] ?? []).filter(
    (entry) => entry.type === undefined || entry.type === 'ads_insights',
  );
  const throttle = jsonHeader(headers, 'x-fb-ads-insights-throttle', adsInsightsThrottle);
  const shares = [
    ...entries.flatMap((e) => [e.call_count, e.total_cputime, e.total_time]),
    throttle?.acc_id_util_pct,
  ].filter((value): value is number => value !== undefined);
  const minutes = entries
    .map((e) => e.estimated_time_to_regain_access)
    .filter((value): value is number => value !== undefined);
  if (shares.length === 0 && minutes.length === 0) return undefined;
  return {
    percent: Math.max(0, ...shares),
    regainAccessMs: Math.max(0, ...minutes) * 60_000,
  };
}
