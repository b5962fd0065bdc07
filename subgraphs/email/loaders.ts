import DataLoader from 'dataloader';
import type { MailchimpConnector } from '../../platforms/mailchimp/client/connector.js';
import type { EmailCampaignRecord, EmailMember } from '../../platforms/mailchimp/client/records.js';
import type { RequestContext } from '../../lib/request-context.js';

/** A checked date range: its days and the instants that bound it (see `dateRange`). */
export interface CampaignRange {
  since: string;
  until: string;
  startMs: number;
  endMs: number;
}

export interface EmailLoaders {
  /** A failed look-up fails only its own key, so one customer's error leaves the others' data. */
  memberByEmail: DataLoader<string, EmailMember | null>;
  /** Sent campaigns of a range; every reference to the same range shares one listing. */
  campaignsInRange: DataLoader<CampaignRange, EmailCampaignRecord[], string>;
}

/**
 * One set per request: every customer the gateway asks about in one GraphQL request is read in one
 * batch (the connector picks member GETs or an audience scan, whichever costs fewer calls), and each
 * date range is listed once however many campaign keys use it.
 */
export function createEmailLoaders(mailchimp: MailchimpConnector, request: RequestContext): EmailLoaders {
  const memberByEmail = new DataLoader<string, EmailMember | null>(
    async (emails) => {
      const found = await mailchimp.getMembers(request, emails);
      return emails.map((email) => found.get(email.trim().toLowerCase()) ?? null);
    },
    { cacheKeyFn: (email) => email.trim().toLowerCase() },
  );
  const campaignsInRange = new DataLoader<CampaignRange, EmailCampaignRecord[], string>(
    (ranges) =>
      Promise.all(
        ranges.map((range) =>
          mailchimp.listSentCampaigns(request, { sinceMs: range.startMs, untilMs: range.endMs }),
        ),
      ),
    { cacheKeyFn: (range) => `${range.since}..${range.until}` },
  );
  return { memberByEmail, campaignsInRange };
}
