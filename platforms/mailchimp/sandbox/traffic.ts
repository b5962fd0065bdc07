import {
  defineDemoEvent,
  pickCustomer,
  type DemoEvent,
  type DemoTraffic,
  type OutgoingWebhook,
  type TrafficContext,
  type TrafficKind,
} from '../../../sandboxes/kit/traffic.js';
import type { Customer } from '../../../sandboxes/world/world.js';
import { MAILCHIMP_DEMO } from '../demo.js';
import { changeMember, MEMBER_EVENTS, memberEventAllowed, type MemberEvent } from './changes.js';
import { withMailchimpSecret } from './sign.js';

/**
 * Mailchimp's audience webhooks in the demo: a member's status changes in the world, then the
 * webhook says so, form-encoded with PHP-style keys as Mailchimp posts them, the URL secret in the
 * query (Mailchimp signs nothing).
 */

/** `2026-03-01 14:30:00`: Mailchimp's `fired_at`, UTC without a zone. */
function firedAt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** The audience webhook for a status change already applied to the member. */
export function memberWebhook(
  context: TrafficContext,
  customer: Customer,
  event: MemberEvent,
  at: number,
): OutgoingWebhook {
  const { random, secret, world } = context;
  const { person } = customer;
  const listId = MAILCHIMP_DEMO.credentials.listId;
  const memberId = customer.audience?.uniqueEmailId ?? random.hex(10);
  const lastCampaign = world.emailCampaigns[world.emailCampaigns.length - 1]?.id;
  const ip = `203.0.113.${random.int(1, 254)}`;
  const member: [string, string][] = [
    ['data[id]', memberId],
    ['data[list_id]', listId],
    ['data[email]', person.email],
    ['data[email_type]', 'html'],
    ['data[ip_opt]', ip],
    ['data[ip_signup]', ip],
    ['data[merges][EMAIL]', person.email],
    ['data[merges][FNAME]', person.firstName],
    ['data[merges][LNAME]', person.lastName],
  ];
  let fields: [string, string][];
  switch (event) {
    case 'subscribe':
      fields = [
        ...member,
        ['data[merges][INTERESTS]', random.pick(['Running', 'Camping', 'Running,Camping', 'Travel'])],
      ];
      break;
    case 'unsubscribe':
      fields = [
        ...member,
        ['data[action]', 'unsub'],
        ['data[reason]', 'manual'],
        ...(lastCampaign ? ([['data[campaign_id]', lastCampaign]] as [string, string][]) : []),
      ];
      break;
    case 'cleaned':
      // A hard bounce of the last campaign: Mailchimp sends only the list, the address and why.
      fields = [
        ['data[list_id]', listId],
        ...(lastCampaign ? ([['data[campaign_id]', lastCampaign]] as [string, string][]) : []),
        ['data[reason]', 'hard'],
        ['data[email]', person.email],
      ];
      break;
  }
  const all: [string, string][] = [['type', event], ['fired_at', firedAt(at)], ...fields];
  const body = new URLSearchParams(all).toString();
  return {
    topic: event,
    url: withMailchimpSecret(context.endpoint, secret),
    payload: Object.fromEntries(all),
    attempt: () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp.com' },
      body,
    }),
  };
}

/** How often each comes up in the live traffic: sign-ups far more than bounces. */
const WEIGHTS: Readonly<Record<MemberEvent, number>> = { subscribe: 10, unsubscribe: 3, cleaned: 1 };

const memberEvent = (type: MemberEvent): DemoEvent =>
  defineDemoEvent({
    type,
    fields: {},
    happen(context, customer, _fields, at) {
      const applied = changeMember(context.world, customer, type, at);
      return { applied: { status: applied }, webhooks: [memberWebhook(context, customer, type, at)] };
    },
  });

const EVENTS = MEMBER_EVENTS.map((type) => ({ type, event: memberEvent(type) }));

export const MAILCHIMP_TRAFFIC: DemoTraffic = {
  events: EVENTS.map(({ event }) => event),
  kinds: EVENTS.map(({ type, event }): TrafficKind => ({
    name: type,
    weight: WEIGHTS[type],
    event,
    draw(context) {
      const customer = pickCustomer(context, (c) => memberEventAllowed(type, c));
      return customer ? { customer, fields: {} } : undefined;
    },
  })),
};
