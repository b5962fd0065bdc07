import type { DayRange } from '../../platforms/meta/client/connector.js';
import { isCalendarDate } from '../../lib/dates.js';
import { badUserInput } from '../../lib/errors.js';
import { dateRange } from '../../lib/graphql/date-range.js';
import { DateScalar, DecimalScalar } from '../../lib/graphql/scalars.js';
import type { AdsContext } from './context.js';
import type { CampaignPerformanceModel } from './mappers.js';
import { adStatsOf, byCodeUnit, performanceByKey } from './stats.js';
import type { Resolvers } from './__generated__/resolvers-types.js';

/** Clicks per impression; null without impressions (no rate to speak of). */
const clickRateOf = (stats: { clicks: number; impressions: number }) =>
  stats.impressions > 0 ? stats.clicks / stats.impressions : null;

/** The validated range of a field's `since`/`until` arguments (BAD_USER_INPUT when it is not one). */
function rangeOf(since: string, until: string): DayRange {
  const range = dateRange(since, until);
  return { since: range.since, until: range.until };
}

/**
 * A key's ads over a range, for a reference from another subgraph. The gateway passes the key
 * fields as it received them, without the `Date` scalar's checks, so they are checked here.
 */
async function performanceOf(
  context: AdsContext,
  reference: { key: string; since: string; until: string },
): Promise<CampaignPerformanceModel> {
  const { key, since, until } = reference;
  if (!isCalendarDate(since) || !isCalendarDate(until))
    throw badUserInput(`A CampaignPerformance reference needs since and until as YYYY-MM-DD days.`);
  const range = rangeOf(since, until);
  const found = await context.loaders.performanceByKey.load({ key, range });
  if (found) return found;
  // No delivery for this key in the range: zeros, in the currency the account spends in.
  return { key, ...range, ads: adStatsOf([], await context.loaders.currencyOf(range)) };
}

export const resolvers: Resolvers = {
  Date: DateScalar,
  Decimal: DecimalScalar,
  Query: {
    async campaignPerformance(_parent, args, context) {
      const range = rangeOf(args.since, args.until);
      return performanceByKey(await context.loaders.insightsByRange.load(range), range);
    },
    async adCampaigns(_parent, args, context) {
      const insights = await context.loaders.insightsByRange.load(rangeOf(args.since, args.until));
      return [...insights].sort(
        (a, b) => byCodeUnit(a.campaignName, b.campaignName) || byCodeUnit(a.campaignId, b.campaignId),
      );
    },
  },
  CampaignPerformance: {
    __resolveReference: (reference, context) => performanceOf(context, reference),
  },
  AdStats: {
    clickRate: (stats) => clickRateOf(stats),
    ctr: (stats) => clickRateOf(stats),
  },
  AdCampaign: {
    id: (campaign) => campaign.campaignId,
    name: (campaign) => campaign.campaignName,
    stats: (campaign) => adStatsOf([campaign], campaign.spend.currency),
  },
};
