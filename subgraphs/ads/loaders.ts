import DataLoader from 'dataloader';
import type { DayRange, MetaConnector } from '../../connectors/meta/connector.js';
import type { AdCampaignInsight } from '../../connectors/meta/records.js';
import type { RequestContext } from '../../lib/request-context.js';

export interface AdsLoaders {
  /** Campaign insights of one range: one Ads Insights listing per range per request. */
  insightsByRange: DataLoader<DayRange, AdCampaignInsight[], string>;
  /**
   * The spend currency of a range: that of its rows, or the account's when nothing delivered (so
   * zero spend still says which currency it is zero in).
   */
  currencyOf(range: DayRange): Promise<string>;
}

const rangeKey = (range: DayRange) => `${range.since}/${range.until}`;

/**
 * One set per request: `campaignPerformance`, `adCampaigns` and every `CampaignPerformance`
 * reference the gateway sends for the same range share a single Ads Insights listing, which keeps
 * the request within Meta's hourly insights budget.
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
  return {
    insightsByRange,
    async currencyOf(range) {
      const insights = await insightsByRange.load(range);
      return insights[0]?.spend.currency ?? meta.accountCurrency(request);
    },
  };
}
