import { z } from 'zod';

/** Mailchimp Marketing API 3.0 payloads as documented; only the fields the connector reads. */

const instant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 date-time');
/** Mailchimp sends `""` for a timestamp that was never set. */
const optionalInstant = z.union([z.literal(''), instant]);
const count = z.number().int().min(0);
const fraction = z.number().min(0).max(1);

export const listMember = z.object({
  email_address: z.string().min(3),
  status: z.enum(['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived']),
  member_rating: z.number().int().min(1).max(5),
  timestamp_opt: optionalInstant,
  last_changed: instant,
  vip: z.boolean(),
  stats: z.object({ avg_open_rate: fraction, avg_click_rate: fraction }),
});
export type ListMember = z.output<typeof listMember>;

export const listMembersPage = z.object({
  members: z.array(listMember),
  total_items: count,
});

export const sentCampaign = z.object({
  id: z.string().min(1),
  send_time: instant,
  emails_sent: count,
  settings: z.object({ title: z.string(), subject_line: z.string() }),
  tracking: z.object({ google_analytics: z.string() }),
  report_summary: z.object({ unique_opens: count, subscriber_clicks: count }),
});
export type SentCampaign = z.output<typeof sentCampaign>;

export const campaignsPage = z.object({
  campaigns: z.array(sentCampaign),
  total_items: count,
});

export const campaignReport = z.object({
  id: z.string().min(1),
  campaign_title: z.string(),
  emails_sent: count,
  unsubscribed: count,
  send_time: optionalInstant,
  bounces: z.object({ hard_bounces: count, soft_bounces: count }),
  opens: z.object({ opens_total: count, unique_opens: count }),
  clicks: z.object({ clicks_total: count, unique_subscriber_clicks: count }),
});
export type CampaignReport = z.output<typeof campaignReport>;

/**
 * `GET /lists/{list_id}`, only the audience counts. Mailchimp's `member_count` is subscribed members
 * only; `total_contacts` counts every status a member listing returns.
 */
export const listInfo = z.object({
  id: z.string().min(1),
  stats: z.object({
    member_count: count,
    unsubscribe_count: count,
    cleaned_count: count,
    total_contacts: count.optional(),
  }),
});

/** A member as a write answers it; only what the writer reads. */
export const writtenMember = z.object({
  id: z.string().min(1),
  email_address: z.string().min(3),
  status: listMember.shape.status,
});

/** `POST /lists/{list_id}` (batch subscribe/update): each member created, updated or refused. */
export const batchSubscribeResponse = z.object({
  new_members: z.array(writtenMember),
  updated_members: z.array(writtenMember),
  errors: z.array(
    z.object({
      email_address: z.string(),
      error: z.string(),
      error_code: z.string().optional(),
      field: z.string().optional(),
      field_message: z.string().optional(),
    }),
  ),
  total_created: count,
  total_updated: count,
  error_count: count,
});
