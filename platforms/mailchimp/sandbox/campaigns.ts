import type { EmailCampaign } from '../../../sandboxes/world/world.js';
import { mailchimpTime } from './members.js';

const HOUR_MS = 3_600_000;

/** Mailchimp reports rates as fractions rounded to a few digits; nothing was sent means 0. */
const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1e6) / 1e6 : 0);

/**
 * Link-level unique clicks (each link counted once per recipient): at least the clicking recipients,
 * at most every click. Distinct from `unique_subscriber_clicks`, as in Mailchimp's reports.
 */
const uniqueLinkClicks = (campaign: EmailCampaign) =>
  Math.round((campaign.uniqueClicks + campaign.clicksTotal) / 2);

/** A sent campaign as `GET /campaigns` lists it. */
export function toCampaignJson(campaign: EmailCampaign, listId: string): Record<string, unknown> {
  return {
    id: campaign.id,
    web_id: campaign.webId,
    type: 'regular',
    // Campaigns are drafted a day or two before they go out.
    create_time: mailchimpTime(campaign.sentAt - (24 + (campaign.webId % 24)) * HOUR_MS),
    archive_url: `https://mailchi.mp/demo/${campaign.id}`,
    status: 'sent',
    emails_sent: campaign.emailsSent,
    send_time: mailchimpTime(campaign.sentAt),
    content_type: 'template',
    recipients: { list_id: listId, list_is_active: true, recipient_count: campaign.emailsSent },
    settings: {
      subject_line: campaign.subjectLine,
      title: campaign.title,
      from_name: 'Demo Outdoor Co',
      reply_to: 'hello@demo-outdoor.example',
    },
    tracking: {
      opens: true,
      html_clicks: true,
      text_clicks: false,
      // Mailchimp sends an empty string when Google Analytics link tracking is off.
      google_analytics: campaign.key ?? '',
    },
    report_summary: {
      opens: campaign.opensTotal,
      unique_opens: campaign.uniqueOpens,
      open_rate: rate(campaign.uniqueOpens, campaign.emailsSent),
      clicks: campaign.clicksTotal,
      subscriber_clicks: campaign.uniqueClicks,
      click_rate: rate(campaign.uniqueClicks, campaign.emailsSent),
    },
  };
}

/** A campaign's report as `GET /reports/{campaign_id}` returns it. */
export function toReportJson(campaign: EmailCampaign, listId: string): Record<string, unknown> {
  const sentAt = campaign.sentAt;
  return {
    id: campaign.id,
    campaign_title: campaign.title,
    type: 'regular',
    list_id: listId,
    list_is_active: true,
    subject_line: campaign.subjectLine,
    emails_sent: campaign.emailsSent,
    abuse_reports: 0,
    unsubscribed: campaign.unsubscribed,
    send_time: mailchimpTime(sentAt),
    bounces: {
      hard_bounces: campaign.hardBounces,
      soft_bounces: campaign.softBounces,
      syntax_errors: 0,
    },
    opens: {
      opens_total: campaign.opensTotal,
      proxy_excluded_opens: campaign.opensTotal,
      unique_opens: campaign.uniqueOpens,
      open_rate: rate(campaign.uniqueOpens, campaign.emailsSent),
      proxy_excluded_open_rate: rate(campaign.uniqueOpens, campaign.emailsSent),
      last_open: campaign.uniqueOpens > 0 ? mailchimpTime(sentAt + 72 * HOUR_MS) : '',
    },
    clicks: {
      clicks_total: campaign.clicksTotal,
      unique_clicks: uniqueLinkClicks(campaign),
      unique_subscriber_clicks: campaign.uniqueClicks,
      click_rate: rate(campaign.uniqueClicks, campaign.emailsSent),
      last_click: campaign.uniqueClicks > 0 ? mailchimpTime(sentAt + 48 * HOUR_MS) : '',
    },
  };
}
