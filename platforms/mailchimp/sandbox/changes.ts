import { Random } from '../../../sandboxes/world/random.js';
import { TransitionError } from '../../../sandboxes/world/changes.js';
import type { AudienceMember, Customer, World } from '../../../sandboxes/world/world.js';

/**
 * What can happen to an audience member in Mailchimp once the world is generated: subscribing,
 * unsubscribing, being cleaned. Checked against the current state, applied in place (see
 * sandboxes/world/changes.ts), so the sandbox serves it from then on.
 */

/** Mailchimp's audience webhooks that change a member's status. */
export const MEMBER_EVENTS = ['subscribe', 'unsubscribe', 'cleaned'] as const;
export type MemberEvent = (typeof MEMBER_EVENTS)[number];

/** A member's status, or `absent` for someone who never joined the audience. */
export type MemberState = AudienceMember['status'] | 'absent';

/**
 * The statuses each event can happen from. Subscribing is a sign-up (or a pending member
 * confirming, or a resubscribe); a cleaned address is one Mailchimp will not mail again, so it is
 * never subscribed back. Only a member who is mailed (subscribed, or pending a confirmation email)
 * can bounce and be cleaned, and only a subscribed one can unsubscribe.
 */
const ALLOWED_FROM: Readonly<Record<MemberEvent, readonly MemberState[]>> = {
  subscribe: ['absent', 'unsubscribed', 'pending', 'transactional'],
  unsubscribe: ['subscribed'],
  cleaned: ['subscribed', 'pending'],
};
const STATUS_AFTER: Readonly<Record<MemberEvent, AudienceMember['status']>> = {
  subscribe: 'subscribed',
  unsubscribe: 'unsubscribed',
  cleaned: 'cleaned',
};

export const memberStateOf = (customer: Customer): MemberState => customer.audience?.status ?? 'absent';

export function memberEventAllowed(event: MemberEvent, customer: Customer): boolean {
  return ALLOWED_FROM[event].includes(memberStateOf(customer));
}

export interface AppliedMemberChange {
  from: MemberState;
  to: AudienceMember['status'];
}

/** Applies a Mailchimp audience event; subscribing someone new adds them to the audience. */
export function changeMember(
  world: World,
  customer: Customer,
  event: MemberEvent,
  at: number,
): AppliedMemberChange {
  const from = memberStateOf(customer);
  if (!ALLOWED_FROM[event].includes(from))
    throw new TransitionError(
      `${customer.person.email} is ${from === 'absent' ? 'not in the audience' : from}; Mailchimp sends ${event} only for members who are ${ALLOWED_FROM[event].join(' or ')}.`,
    );
  const to = STATUS_AFTER[event];
  const member = customer.audience ?? newMember(world, customer.person.index, at);
  member.status = to;
  member.lastChangedAt = at;
  if (to === 'subscribed') member.optedInAt = at;
  customer.audience = member;
  world.revision += 1;
  return { from, to };
}

/**
 * A membership for someone joining the audience now: pending, nothing sent to them yet. `index`
 * is the person's (an address only the audience knows has one of its own, past every customer's).
 */
export function newMember(world: World, index: number, at: number): AudienceMember {
  const r = Random.for(world.options.seed, 'joined', index);
  return {
    status: 'pending',
    memberRating: 2,
    signedUpAt: at,
    optedInAt: null,
    lastChangedAt: at,
    vip: false,
    // Nothing has been sent to them yet.
    avgOpenRate: 0,
    avgClickRate: 0,
    uniqueEmailId: r.hex(10),
    webId: 100_000 + index,
    contactId: r.hex(32),
  };
}
