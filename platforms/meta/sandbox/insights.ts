import type { AdCampaign } from '../../../sandboxes/world/world.js';
import { fieldsOf } from './fields.js';
import { bucketOf, timeIncrementOf, timeRangeOf, type TimeIncrement, type TimeRange } from './time-range.js';

/**
 * Ads Insights rows projected from the world's ad campaigns: delivery added up per campaign (or
 * for the whole account) and per time bucket, with every metric written as a string the way the
 * Graph API sends them. Only campaigns that delivered in a bucket get a row.
 */

export type InsightsLevel = 'account' | 'campaign';

export interface InsightsQuery {
  level: InsightsLevel;
  fields: readonly string[];
  range: TimeRange;
  increment: TimeIncrement;
}

/** The Ads Insights fields the sandbox can answer. `date_start`/`date_stop` come on every row. */
export const INSIGHTS_FIELDS = new Set([
  'account_id',
  'account_currency',
  'campaign_id',
  'campaign_name',
  'impressions',
  'clicks',
  'spend',
  'actions',
  'ctr',
  'cpc',
  'cpm',
  'date_start',
  'date_stop',
]);
/** What Meta returns when `fields` is absent. */
const DEFAULT_FIELDS = ['impressions', 'spend'];
/** Levels with something to report: the world has no ad sets or ads below its campaigns. */
const LEVELS: readonly InsightsLevel[] = ['account', 'campaign'];

export function insightsQueryOf(query: URLSearchParams, today: string): InsightsQuery | { error: string } {
  const level = query.get('level') ?? 'account';
  if (!(LEVELS as readonly string[]).includes(level))
    return { error: `level must be one of the following values: ${LEVELS.join(', ')}` };
  const fields = fieldsOf(
    query,
    INSIGHTS_FIELDS,
    (field) =>
      `${field} is not valid for fields param. please check https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values`,
  );
  if ('error' in fields) return fields;
  const range = timeRangeOf(query, today);
  if ('error' in range) return range;
  const increment = timeIncrementOf(query);
  if ('error' in increment) return increment;
  return {
    level: level as InsightsLevel,
    fields: fields.length > 0 ? fields : DEFAULT_FIELDS,
    range,
    increment,
  };
}

interface Delivery {
  impressions: number;
  clicks: number;
  spendCents: number;
  purchases: number;
}

interface Bucket extends Delivery {
  campaign: AdCampaign | undefined;
  range: TimeRange;
}

const cents = (value: number) => `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;
/** Meta's derived metrics: ctr in percent, cpc and cpm in the account currency, 6 decimals at most. */
const ratio = (value: number) => String(Number(value.toFixed(6)));

function actionsOf(delivery: Delivery): { action_type: string; value: string }[] {
  const actions: { action_type: string; value: string }[] = [];
  if (delivery.clicks > 0) actions.push({ action_type: 'link_click', value: String(delivery.clicks) });
  if (delivery.purchases > 0) {
    // The pixel event and its roll-up under `purchase` count the same conversions.
    actions.push({ action_type: 'offsite_conversion.fb_pixel_purchase', value: String(delivery.purchases) });
    actions.push({ action_type: 'purchase', value: String(delivery.purchases) });
  }
  return actions;
}

function fieldValue(field: string, bucket: Bucket, account: { id: string; currency: string }): unknown {
  const { campaign } = bucket;
  switch (field) {
    case 'account_id':
      return account.id;
    case 'account_currency':
      return account.currency;
    case 'campaign_id':
      return campaign?.id;
    case 'campaign_name':
      return campaign?.name;
    case 'impressions':
      return String(bucket.impressions);
    case 'clicks':
      return String(bucket.clicks);
    case 'spend':
      return cents(bucket.spendCents);
    case 'actions': {
      const actions = actionsOf(bucket);
      // Meta leaves `actions` out of a row that has none.
      return actions.length > 0 ? actions : undefined;
    }
    case 'ctr':
      return bucket.impressions > 0 ? ratio((bucket.clicks / bucket.impressions) * 100) : undefined;
    case 'cpc':
      return bucket.clicks > 0 ? ratio(bucket.spendCents / 100 / bucket.clicks) : undefined;
    case 'cpm':
      return bucket.impressions > 0
        ? ratio((bucket.spendCents / 100 / bucket.impressions) * 1000)
        : undefined;
    default:
      return undefined;
  }
}

/** Every row the query selects, ordered by bucket then campaign id (the order pages are cut in). */
export function insightsRows(
  campaigns: readonly AdCampaign[],
  query: InsightsQuery,
  account: { id: string; currency: string },
): Record<string, unknown>[] {
  const buckets = new Map<string, Bucket>();
  for (const campaign of campaigns) {
    for (const day of campaign.daily) {
      if (day.date < query.range.since || day.date > query.range.until || day.impressions === 0) continue;
      const range = bucketOf(day.date, query.range, query.increment);
      const owner = query.level === 'campaign' ? campaign : undefined;
      const key = `${range.since}|${owner?.id ?? ''}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { campaign: owner, range, impressions: 0, clicks: 0, spendCents: 0, purchases: 0 };
        buckets.set(key, bucket);
      }
      bucket.impressions += day.impressions;
      bucket.clicks += day.clicks;
      bucket.spendCents += day.spendCents;
      bucket.purchases += day.purchases;
    }
  }
  const ordered = [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return ordered.map(([, bucket]) => {
    const row: Record<string, unknown> = {};
    for (const field of query.fields) {
      const value = fieldValue(field, bucket, account);
      if (value !== undefined) row[field] = value;
    }
    row['date_start'] = bucket.range.since;
    row['date_stop'] = bucket.range.until;
    return row;
  });
}
