import type { EmailCampaign } from '../../../sandboxes/world/world.js';
import { mailchimpTime, type AudienceEntry } from './members.js';
import { MERGE_FIELDS } from './merge-fields.js';

/** Mailchimp reports list-level rates as percentages (0 to 100) with two decimals. */
const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0);

const MONTH_MS = 30 * 24 * 3_600_000;

/**
 * An audience as `GET /lists/{list_id}` returns it, from its members other than archived ones.
 * `stats.member_count` counts subscribed members only; `total_contacts` counts every status a member listing returns. Mailchimp caches these stats
 * for a few minutes; the sandbox computes them from the world on each call.
 */
export function toListJson(
  members: readonly AudienceEntry[],
  campaigns: readonly EmailCampaign[],
  listId: string,
  apiRoot: string,
): Record<string, unknown> {
  const count = (status: AudienceEntry['audience']['status']) =>
    members.filter((m) => m.audience.status === status).length;
  const lastSent = campaigns.reduce((latest, c) => Math.max(latest, c.sentAt), 0);
  const since = (status: AudienceEntry['audience']['status']) =>
    members.filter((m) => m.audience.status === status && m.audience.lastChangedAt > lastSent).length;
  const signups = members.map((m) => m.audience.signedUpAt);
  const unsubscribes = members
    .filter((m) => m.audience.status === 'unsubscribed')
    .map((m) => m.audience.lastChangedAt);
  // An empty audience still has a creation date; the first campaign's is as good as any.
  const first = signups.length > 0 ? Math.min(...signups) : (campaigns[0]?.sentAt ?? 0);
  const last = signups.length > 0 ? Math.max(...signups) : first;
  const months = Math.max(1, (last - first) / MONTH_MS);
  const sent = campaigns.reduce((sum, c) => sum + c.emailsSent, 0);
  return {
    id: listId,
    web_id: 100_001,
    name: 'Demo Outdoor Co Newsletter',
    contact: {
      company: 'Demo Outdoor Co',
      address1: '1 Trailhead Way',
      city: 'Portland',
      state: 'OR',
      zip: '97201',
      country: 'US',
    },
    permission_reminder: 'You signed up for news and offers from Demo Outdoor Co.',
    campaign_defaults: {
      from_name: 'Demo Outdoor Co',
      from_email: 'hello@demo-outdoor.example',
      subject: '',
      language: 'en',
    },
    date_created: mailchimpTime(first),
    list_rating: 3,
    email_type_option: false,
    double_optin: true,
    visibility: 'prv',
    stats: {
      member_count: count('subscribed'),
      total_contacts: members.length,
      unsubscribe_count: count('unsubscribed'),
      cleaned_count: count('cleaned'),
      member_count_since_send: since('subscribed'),
      unsubscribe_count_since_send: since('unsubscribed'),
      cleaned_count_since_send: since('cleaned'),
      campaign_count: campaigns.length,
      campaign_last_sent: lastSent > 0 ? mailchimpTime(lastSent) : '',
      merge_field_count: MERGE_FIELDS.length,
      avg_sub_rate: Math.round((members.length / months) * 100) / 100,
      avg_unsub_rate: Math.round((unsubscribes.length / months) * 100) / 100,
      target_sub_rate: 0,
      open_rate: percent(
        campaigns.reduce((sum, c) => sum + c.uniqueOpens, 0),
        sent,
      ),
      click_rate: percent(
        campaigns.reduce((sum, c) => sum + c.uniqueClicks, 0),
        sent,
      ),
      last_sub_date: signups.length > 0 ? mailchimpTime(last) : '',
      last_unsub_date: unsubscribes.length > 0 ? mailchimpTime(Math.max(...unsubscribes)) : '',
    },
    _links: [
      { rel: 'self', href: `${apiRoot}/lists/${listId}`, method: 'GET' },
      { rel: 'members', href: `${apiRoot}/lists/${listId}/members`, method: 'GET' },
    ],
  };
}
