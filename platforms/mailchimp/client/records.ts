import { toDateTime } from '../../../lib/dates.js';
import type { CampaignReport, ListMember, SentCampaign } from './schemas.js';

/** A customer's membership of the audience, in the graph's conventions. */
export interface EmailMember {
  /** Lower case. */
  email: string;
  status: EmailSubscriptionStatus;
  /** 1 (low) to 5 (high). */
  memberRating: number;
  optedInAt: string | null;
  lastChangedAt: string;
  vip: boolean;
  /** 0..1 */
  avgOpenRate: number;
  /** 0..1 */
  avgClickRate: number;
}

export type EmailSubscriptionStatus =
  'SUBSCRIBED' | 'UNSUBSCRIBED' | 'CLEANED' | 'PENDING' | 'TRANSACTIONAL' | 'ARCHIVED';

/** Delivery and engagement of one or more campaigns; rates are 0..1 of `emailsSent`. */
export interface EmailStatsRecord {
  emailsSent: number;
  uniqueOpens: number;
  /** Recipients who clicked at least once (Mailchimp's subscriber clicks). */
  uniqueClicks: number;
  openRate: number;
  clickRate: number;
}

export interface EmailCampaignRecord {
  id: string;
  title: string;
  subjectLine: string;
  sentAt: string;
  /** The `utm_campaign` value the campaign's links carry; null when link tracking is off. */
  campaignKey: string | null;
  stats: EmailStatsRecord;
}

/** A campaign's full report: the stats plus the totals a listing does not carry. */
export interface EmailCampaignReport {
  id: string;
  title: string;
  sentAt: string | null;
  stats: EmailStatsRecord;
  totalOpens: number;
  totalClicks: number;
  unsubscribed: number;
  hardBounces: number;
  softBounces: number;
}

/** Member fields the connector asks for, and only those (least data). */
export const MEMBER_FIELDS = [
  'email_address',
  'status',
  'member_rating',
  'timestamp_opt',
  'last_changed',
  'vip',
  'stats.avg_open_rate',
  'stats.avg_click_rate',
];

/** Campaign fields a listing needs to build EmailCampaignRecords. */
export const CAMPAIGN_FIELDS = [
  'id',
  'send_time',
  'emails_sent',
  'settings.title',
  'settings.subject_line',
  'tracking.google_analytics',
  'report_summary.unique_opens',
  'report_summary.subscriber_clicks',
];

const STATUSES: Record<ListMember['status'], EmailSubscriptionStatus> = {
  subscribed: 'SUBSCRIBED',
  unsubscribed: 'UNSUBSCRIBED',
  cleaned: 'CLEANED',
  pending: 'PENDING',
  transactional: 'TRANSACTIONAL',
  archived: 'ARCHIVED',
};

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** Stats from counts, with rates computed from them so a sum of campaigns is rated the same way. */
export function emailStats(emailsSent: number, uniqueOpens: number, uniqueClicks: number): EmailStatsRecord {
  return {
    emailsSent,
    uniqueOpens,
    uniqueClicks,
    openRate: ratio(uniqueOpens, emailsSent),
    clickRate: ratio(uniqueClicks, emailsSent),
  };
}

export function toEmailMember(member: ListMember): EmailMember {
  return {
    email: member.email_address.toLowerCase(),
    status: STATUSES[member.status],
    memberRating: member.member_rating,
    optedInAt: member.timestamp_opt === '' ? null : toDateTime(member.timestamp_opt),
    lastChangedAt: toDateTime(member.last_changed),
    vip: member.vip,
    avgOpenRate: member.stats.avg_open_rate,
    avgClickRate: member.stats.avg_click_rate,
  };
}

export function toEmailCampaign(campaign: SentCampaign): EmailCampaignRecord {
  const key = campaign.tracking.google_analytics.trim();
  return {
    id: campaign.id,
    title: campaign.settings.title,
    subjectLine: campaign.settings.subject_line,
    sentAt: toDateTime(campaign.send_time),
    campaignKey: key === '' ? null : key,
    stats: emailStats(
      campaign.emails_sent,
      campaign.report_summary.unique_opens,
      campaign.report_summary.subscriber_clicks,
    ),
  };
}

export function toEmailCampaignReport(report: CampaignReport): EmailCampaignReport {
  return {
    id: report.id,
    title: report.campaign_title,
    sentAt: report.send_time === '' ? null : toDateTime(report.send_time),
    stats: emailStats(report.emails_sent, report.opens.unique_opens, report.clicks.unique_subscriber_clicks),
    totalOpens: report.opens.opens_total,
    totalClicks: report.clicks.clicks_total,
    unsubscribed: report.unsubscribed,
    hardBounces: report.bounces.hard_bounces,
    softBounces: report.bounces.soft_bounces,
  };
}
