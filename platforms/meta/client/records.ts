import { money, type Money } from '../../../lib/money.js';
import { campaignKeyOf } from './campaign-key.js';
import type { AdsAction, CampaignInsightRow, CampaignNode } from './schemas.js';

/** One ad campaign's delivery over a date range, in the graph's conventions. */
export interface AdCampaignInsight {
  campaignId: string;
  campaignName: string;
  /** Parsed from the name (`<key> | <description>`); null when the name carries no key. */
  campaignKey: string | null;
  impressions: number;
  clicks: number;
  /** Purchases the platform attributes to the campaign. */
  conversions: number;
  spend: Money;
}

/** An ad campaign as the account lists it, whether or not it delivered lately. */
export interface AdCampaignSummary {
  id: string;
  name: string;
  campaignKey: string | null;
  status: AdCampaignStatus;
  objective: AdObjective | null;
}

export type AdCampaignStatus = 'ACTIVE' | 'PAUSED' | 'ARCHIVED' | 'DELETED' | 'OTHER';
export type AdObjective =
  'AWARENESS' | 'TRAFFIC' | 'ENGAGEMENT' | 'LEADS' | 'APP_PROMOTION' | 'SALES' | 'OTHER';

/** Campaign fields the connector asks Ads Insights for, and only those. */
export const INSIGHT_FIELDS = [
  'campaign_id',
  'campaign_name',
  'impressions',
  'clicks',
  'spend',
  'actions',
  'account_currency',
];
export const CAMPAIGN_FIELDS = ['id', 'name', 'status', 'objective'];

/**
 * `purchase` is Meta's roll-up of purchases from every source (pixel, app, offline); an account
 * without it reports only the pixel event, so that counts instead. Never both: they overlap.
 */
export function conversionsOf(actions: readonly AdsAction[] | undefined): number {
  const value = (type: string) => actions?.find((a) => a.action_type === type)?.value;
  return Number(value('purchase') ?? value('offsite_conversion.fb_pixel_purchase') ?? '0');
}

export function toAdCampaignInsight(row: CampaignInsightRow): AdCampaignInsight {
  return {
    campaignId: row.campaign_id,
    campaignName: row.campaign_name,
    campaignKey: campaignKeyOf(row.campaign_name),
    impressions: Number(row.impressions),
    clicks: Number(row.clicks),
    conversions: conversionsOf(row.actions),
    spend: money(row.spend, row.account_currency),
  };
}

const STATUSES: Record<string, AdCampaignStatus> = {
  ACTIVE: 'ACTIVE',
  PAUSED: 'PAUSED',
  ARCHIVED: 'ARCHIVED',
  DELETED: 'DELETED',
};

/** Objectives since the 2022 simplification (`OUTCOME_*`) and the legacy ones they replaced. */
const OBJECTIVES: Record<string, AdObjective> = {
  OUTCOME_AWARENESS: 'AWARENESS',
  BRAND_AWARENESS: 'AWARENESS',
  REACH: 'AWARENESS',
  OUTCOME_TRAFFIC: 'TRAFFIC',
  LINK_CLICKS: 'TRAFFIC',
  OUTCOME_ENGAGEMENT: 'ENGAGEMENT',
  POST_ENGAGEMENT: 'ENGAGEMENT',
  OUTCOME_LEADS: 'LEADS',
  LEAD_GENERATION: 'LEADS',
  OUTCOME_APP_PROMOTION: 'APP_PROMOTION',
  APP_INSTALLS: 'APP_PROMOTION',
  OUTCOME_SALES: 'SALES',
  CONVERSIONS: 'SALES',
};

export function toAdCampaignSummary(node: CampaignNode): AdCampaignSummary {
  return {
    id: node.id,
    name: node.name,
    campaignKey: campaignKeyOf(node.name),
    status: STATUSES[node.status] ?? 'OTHER',
    objective: node.objective === undefined ? null : (OBJECTIVES[node.objective] ?? 'OTHER'),
  };
}
