import type { AdCampaignInsight } from '../../platforms/meta/client/records.js';
import type { DayRange } from '../../platforms/meta/client/connector.js';
import { sumMoney } from '../../lib/money.js';
import type { AdStatsModel, CampaignPerformanceModel } from './mappers.js';

/** Orders strings by code unit, so the order never depends on the server's locale. */
export const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Adds up campaigns' delivery. `currency` is the spend currency when there is nothing to add (an
 * empty list gives zero spend in it).
 */
export function adStatsOf(insights: readonly AdCampaignInsight[], currency: string): AdStatsModel {
  const spend = sumMoney(
    insights.map((i) => i.spend),
    currency,
  );
  // The connector answers one ad account, which spends in one currency, so the sum always exists.
  if (!spend) throw new Error('ad campaign insights mix currencies');
  return {
    impressions: insights.reduce((sum, i) => sum + i.impressions, 0),
    clicks: insights.reduce((sum, i) => sum + i.clicks, 0),
    conversions: insights.reduce((sum, i) => sum + i.conversions, 0),
    spend,
  };
}

/** One row per campaign key, sorted by key; campaigns without a key belong to no row. */
export function performanceByKey(
  insights: readonly AdCampaignInsight[],
  range: DayRange,
): CampaignPerformanceModel[] {
  const byKey = new Map<string, { currency: string; campaigns: AdCampaignInsight[] }>();
  for (const insight of insights) {
    if (insight.campaignKey === null) continue;
    const group = byKey.get(insight.campaignKey);
    if (group) group.campaigns.push(insight);
    else byKey.set(insight.campaignKey, { currency: insight.spend.currency, campaigns: [insight] });
  }
  return [...byKey]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([key, group]) => ({
      key,
      since: range.since,
      until: range.until,
      ads: adStatsOf(group.campaigns, group.currency),
    }));
}
