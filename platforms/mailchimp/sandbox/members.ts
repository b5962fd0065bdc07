import { createHash } from 'node:crypto';
import type { AudienceMember, Person } from '../../../sandboxes/world/world.js';

/**
 * A member of the audience: a customer of the world who joined it, or an address only the audience
 * knows (added through the API), with their membership.
 */
export interface AudienceEntry {
  person: Pick<Person, 'email' | 'firstName' | 'lastName' | 'index'>;
  audience: AudienceMember;
  subscriberHash: string;
}

/** Mailchimp's member id: hex MD5 of the lower-cased email address. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(email.toLowerCase()).digest('hex');
}

/** Mailchimp writes instants with an explicit offset and no milliseconds: `2026-03-01T14:30:00+00:00`. */
export function mailchimpTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** Mailchimp answers an unset timestamp or address with an empty string rather than null. */
const orEmpty = (ms: number | null) => (ms === null ? '' : mailchimpTime(ms));

/** A documentation-range address (RFC 5737), stable per customer. */
const ipOf = (index: number) => `198.51.100.${(index % 254) + 1}`;

/** The tag VIP members carry from the start, as the seeded audience shows it. */
export const VIP_TAG = 'VIP';

/** A member's tags: those written through the API, else the seeded VIP flag's. */
export function tagsOf(audience: AudienceMember): string[] {
  return audience.tags ?? (audience.vip ? [VIP_TAG] : []);
}

/** A member's merge fields: the name from the person, overridden by any written through the API. */
export function mergeFieldsOf(entry: AudienceEntry): Record<string, string> {
  return { FNAME: entry.person.firstName, LNAME: entry.person.lastName, ...entry.audience.mergeFields };
}

/**
 * A list member as `GET /lists/{list_id}/members/{subscriber_hash}` returns it; `apiRoot` is the
 * public `https://<dc>.api.mailchimp.com/3.0` written into `_links`, `tagId` numbers a tag name.
 */
export function toMemberJson(
  entry: AudienceEntry,
  listId: string,
  apiRoot: string,
  tagId: (name: string) => number,
): Record<string, unknown> {
  const { person, audience, subscriberHash: id } = entry;
  const merge = mergeFieldsOf(entry);
  const tags = tagsOf(audience);
  return {
    id,
    email_address: person.email,
    unique_email_id: audience.uniqueEmailId,
    contact_id: audience.contactId,
    full_name: [merge['FNAME'], merge['LNAME']].filter(Boolean).join(' '),
    web_id: audience.webId,
    email_type: 'html',
    status: audience.status,
    merge_fields: merge,
    stats: { avg_open_rate: audience.avgOpenRate, avg_click_rate: audience.avgClickRate },
    ip_signup: ipOf(person.index),
    timestamp_signup: mailchimpTime(audience.signedUpAt),
    ip_opt: audience.optedInAt === null ? '' : ipOf(person.index),
    timestamp_opt: orEmpty(audience.optedInAt),
    member_rating: audience.memberRating,
    last_changed: mailchimpTime(audience.lastChangedAt),
    vip: audience.vip,
    tags_count: tags.length,
    tags: tags.map((name) => ({ id: tagId(name), name })),
    list_id: listId,
    _links: [
      {
        rel: 'self',
        href: `${apiRoot}/lists/${listId}/members/${id}`,
        method: 'GET',
      },
    ],
  };
}
