import type { Money } from '../../lib/money.js';

/** What the `AdStats` resolvers receive: the sums; the click rate is derived from them when asked. */
export interface AdStatsModel {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: Money;
}

/** What the `CampaignPerformance` resolvers receive: one key's ads over one range. */
export interface CampaignPerformanceModel {
  key: string;
  since: string;
  until: string;
  ads: AdStatsModel;
}
