import { createHash } from 'node:crypto';
import type { AudienceMember, Customer } from '../../../sandboxes/world/world.js';

/** A customer who is in the audience, with their membership. */
export interface AudienceEntry {
  customer: Customer;
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

export function audienceEntries(customers: readonly Customer[]): AudienceEntry[] {
  return customers.flatMap((customer) =>
    customer.audience
      ? [{ customer, audience: customer.audience, subscriberHash: subscriberHash(customer.person.email) }]
      : [],
  );
}

/**
 * A list member as `GET /lists/{list_id}/members/{subscriber_hash}` returns it; `apiRoot` is the
 * public `https://<dc>.api.mailchimp.com/3.0` written into `_links`.
 */
export function toMemberJson(entry: AudienceEntry, listId: string, apiRoot: string): Record<string, unknown> {
  const { customer, audience, subscriberHash: id } = entry;
  const { person } = customer;
  return {
    id,
    email_address: person.email,
    unique_email_id: audience.uniqueEmailId,
    contact_id: audience.contactId,
    full_name: `${person.firstName} ${person.lastName}`,
    web_id: audience.webId,
    email_type: 'html',
    status: audience.status,
    merge_fields: { FNAME: person.firstName, LNAME: person.lastName },
    stats: { avg_open_rate: audience.avgOpenRate, avg_click_rate: audience.avgClickRate },
    ip_signup: ipOf(person.index),
    timestamp_signup: mailchimpTime(audience.signedUpAt),
    ip_opt: audience.optedInAt === null ? '' : ipOf(person.index),
    timestamp_opt: orEmpty(audience.optedInAt),
    member_rating: audience.memberRating,
    last_changed: mailchimpTime(audience.lastChangedAt),
    vip: audience.vip,
    tags: audience.vip ? [{ id: 1, name: 'VIP' }] : [],
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
