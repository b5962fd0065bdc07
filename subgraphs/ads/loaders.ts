import DataLoader from 'dataloader';
import type { DayRange, MetaConnector } from '../../platforms/meta/client/connector.js';
import type { AdCampaignInsight } from '../../platforms/meta/client/records.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { CampaignPerformanceModel } from './mappers.js';
import { performanceByKey } from './stats.js';

/** One campaign key over one range: what a `CampaignPerformance` reference asks for. */
export interface KeyInRange {
  key: string;
  range: DayRange;
}

export interface AdsLoaders {
  /** Campaign insights of one range: one Ads Insights listing per range per request. */
  insightsByRange: DataLoader<DayRange, AdCampaignInsight[], string>;
  /**
   * A key's ads over a range, or null when none of the key's campaigns delivered in it. Keys of one
   * range are answered from that range's single listing, added up once for all of them.
   */
  performanceByKey: DataLoader<KeyInRange, CampaignPerformanceModel | null, string>;
  /**
   * The spend currency of a range: that of its rows, or the account's when nothing delivered (so
   * zero spend still says which currency it is zero in).
   */
  currencyOf(range: DayRange): Promise<string>;
}

const rangeKey = (range: DayRange) => `${range.since}/${range.until}`;

/**
 * One set per request: `campaignPerformance`, `adCampaigns` and every `CampaignPerformance`
 * reference the gateway sends for the same range share a single Ads Insights listing (which the
 * connector caches across requests), which keeps the account within Meta's hourly insights budget.
 */
export function createAdsLoaders(meta: MetaConnector, request: RequestContext): AdsLoaders {
  const insightsByRange = new DataLoader<DayRange, AdCampaignInsight[], string>(
    (ranges) =>
      Promise.all(
        // One range failing (throttled, say) fails only the fields that asked for it.
        ranges.map((range) =>
          meta
            .campaignInsights(request, range)
            .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
        ),
      ),
    { cacheKeyFn: rangeKey },
  );
  const performance = new DataLoader<KeyInRange, CampaignPerformanceModel | null, string>(
    async (asked) => {
      // Per distinct range: its listing, grouped by key once rather than once per reference.
      const byRange = new Map<string, Promise<Map<string, CampaignPerformanceModel> | Error>>();
      for (const { range } of asked) {
        if (byRange.has(rangeKey(range))) continue;
        byRange.set(
          rangeKey(range),
          insightsByRange.load(range).then(
            (insights) => new Map(performanceByKey(insights, range).map((row) => [row.key, row])),
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        );
      }
      return Promise.all(
        asked.map(async ({ key, range }) => {
          const rows = await byRange.get(rangeKey(range));
          if (rows instanceof Error) return rows;
          return rows?.get(key) ?? null;
        }),
      );
    },
    { cacheKeyFn: ({ key, range }) => `${rangeKey(range)}/${key}` },
  );
  return {
    insightsByRange,
    performanceByKey: performance,
    async currencyOf(range) {
      const insights = await insightsByRange.load(range);
      return insights[0]?.spend.currency ?? meta.accountCurrency(request);
    },
  };
}
