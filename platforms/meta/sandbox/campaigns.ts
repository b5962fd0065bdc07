import type { AdCampaign } from '../../../sandboxes/world/world.js';

/**
 * Campaign and ad-account nodes as the Graph API shows them. The world knows only when a campaign
 * ran, so status and objective are derived: a campaign past its last day is paused, keyed campaigns
 * sell, and the always-on one builds awareness.
 */

export const CAMPAIGN_FIELDS = new Set([
  'id',
  'account_id',
  'name',
  'status',
  'effective_status',
  'objective',
  'start_time',
  'stop_time',
]);

export const ACCOUNT_FIELDS = new Set([
  'id',
  'account_id',
  'name',
  'currency',
  'timezone_name',
  'account_status',
]);

/** Meta writes node times with a numeric offset and no colon: `2026-09-01T00:00:00+0000`. */
const graphTime = (date: string, time: string) => `${date}T${time}+0000`;

function campaignValue(field: string, campaign: AdCampaign, today: string, accountId: string): unknown {
  const status = campaign.endDate < today ? 'PAUSED' : 'ACTIVE';
  switch (field) {
    case 'id':
      return campaign.id;
    case 'account_id':
      return accountId;
    case 'name':
      return campaign.name;
    case 'status':
    case 'effective_status':
      return status;
    case 'objective':
      return campaign.key === null ? 'OUTCOME_AWARENESS' : 'OUTCOME_SALES';
    case 'start_time':
      return graphTime(campaign.startDate, '00:00:00');
    case 'stop_time':
      // Always-on campaigns have no end date set.
      return campaign.key === null ? undefined : graphTime(campaign.endDate, '23:59:59');
    default:
      return undefined;
  }
}

/** A campaign node with the requested fields; `id` is always there, as on every Graph node. */
export function campaignNode(
  campaign: AdCampaign,
  fields: readonly string[],
  today: string,
  accountId: string,
): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const field of new Set([...fields, 'id'])) {
    const value = campaignValue(field, campaign, today, accountId);
    if (value !== undefined) node[field] = value;
  }
  return node;
}

export interface AdAccount {
  id: string;
  name: string;
  currency: string;
}

export function accountNode(account: AdAccount, fields: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {
    id: `act_${account.id}`,
    account_id: account.id,
    name: account.name,
    currency: account.currency,
    // The world keeps its days in UTC, so the account reports in UTC too.
    timezone_name: 'Etc/UTC',
    account_status: 1,
  };
  return Object.fromEntries([...new Set([...fields, 'id'])].map((f) => [f, values[f]]));
}
