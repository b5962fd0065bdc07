import {
  emailStats,
  type EmailCampaignRecord,
  type EmailStatsRecord,
} from '../../platforms/mailchimp/client/records.js';
import { dayOf } from '../../lib/dates.js';

/**
 * The email side of a campaign key over a range: every campaign tagged with `key` whose send day
 * (UTC) falls within `since..until`, added up. Rates are re-derived from the sums, so a large send
 * weighs more than a small one; nothing sent gives zeros rather than null.
 */
export function emailPerformance(
  campaigns: readonly EmailCampaignRecord[],
  key: string,
  since: string,
  until: string,
): EmailStatsRecord {
  let emailsSent = 0;
  let uniqueOpens = 0;
  let uniqueClicks = 0;
  for (const campaign of campaigns) {
    const day = dayOf(campaign.sentAt);
    if (campaign.campaignKey !== key || day < since || day > until) continue;
    emailsSent += campaign.stats.emailsSent;
    uniqueOpens += campaign.stats.uniqueOpens;
    uniqueClicks += campaign.stats.uniqueClicks;
  }
  return emailStats(emailsSent, uniqueOpens, uniqueClicks);
}
