import { Random } from './random.js';
import type { AudienceMember, Customer, CrmContact, FinancialStatus, Order, Person, World } from './world.js';

/**
 * What can happen to the world once it is generated: a contact moves along the lifecycle, a list
 * member subscribes, unsubscribes or is cleaned, a customer places an order. Each change checks the
 * transition against the current state (a TransitionError when the platform would not make it),
 * applies it in place and moves `world.revision`, so every sandbox serves it from then on. The
 * webhook emitter and `POST /__sandbox/webhooks` change the world only through here: what the
 * webhooks say and what the sandboxes answer are one story.
 */

/** The change is not one the platform would make from the current state; nothing was changed. */
export class TransitionError extends Error {
  override readonly name = 'TransitionError';
}

export type LifecycleStage = CrmContact['lifecycleStage'];

/**
 * HubSpot's default lifecycle stages in their order. HubSpot only moves a contact forward through
 * them (going back means clearing the property first), and `other` is the last.
 */
export const LIFECYCLE_ORDER = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
] as const satisfies readonly LifecycleStage[];

/** HubSpot's default `hs_lead_status` options. */
export const LEAD_STATUSES = [
  'NEW',
  'OPEN',
  'IN_PROGRESS',
  'OPEN_DEAL',
  'UNQUALIFIED',
  'ATTEMPTED_TO_CONTACT',
  'CONNECTED',
  'BAD_TIMING',
] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** The stages a contact may move to from where it is: every later one. */
export function laterStages(stage: LifecycleStage): LifecycleStage[] {
  return LIFECYCLE_ORDER.slice(LIFECYCLE_ORDER.indexOf(stage) + 1);
}

export interface ContactChange {
  lifecycleStage?: LifecycleStage;
  leadStatus?: LeadStatus;
}

export interface AppliedContactChange {
  lifecycleStage?: { from: LifecycleStage; to: LifecycleStage };
  leadStatus?: { from: string | null; to: LeadStatus };
}

/** Sets a contact's properties as a HubSpot user or workflow would; `lastmodifieddate` moves too. */
export function changeContact(
  world: World,
  customer: Customer,
  change: ContactChange,
  at: number,
): AppliedContactChange {
  const { crm } = customer;
  const applied: AppliedContactChange = {};
  if (change.lifecycleStage !== undefined) {
    const allowed = laterStages(crm.lifecycleStage);
    if (!allowed.includes(change.lifecycleStage))
      throw new TransitionError(
        `Contact ${crm.id} is at lifecycle stage ${crm.lifecycleStage}; HubSpot only moves a stage forward, ` +
          (allowed.length > 0 ? `to ${allowed.join(', ')}.` : 'and this is the last one.'),
      );
    applied.lifecycleStage = { from: crm.lifecycleStage, to: change.lifecycleStage };
  }
  if (change.leadStatus !== undefined) {
    if (change.leadStatus === crm.leadStatus)
      throw new TransitionError(`Contact ${crm.id} already has lead status ${change.leadStatus}.`);
    applied.leadStatus = { from: crm.leadStatus ?? null, to: change.leadStatus };
  }
  if (!applied.lifecycleStage && !applied.leadStatus)
    throw new TransitionError('A contact change must set the lifecycle stage or the lead status.');
  if (applied.lifecycleStage) crm.lifecycleStage = applied.lifecycleStage.to;
  if (applied.leadStatus) crm.leadStatus = applied.leadStatus.to;
  crm.updatedAt = Math.max(crm.updatedAt, at);
  world.revision += 1;
  return applied;
}

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

/**
 * A person the world did not know, added as the CRM adds a contact (an upsert by an address no
 * contact has): a CRM record now, and nothing in the other systems until they say so. Their index
 * and CRM id follow every seeded one, by the same formulas.
 */
export function addCustomer(
  world: World,
  person: Omit<Person, 'index'>,
  crm: Pick<CrmContact, 'lifecycleStage'> & Partial<Pick<CrmContact, 'leadStatus' | 'properties'>>,
  at: number,
): Customer {
  // Customers are kept in index order, seeded and added alike.
  const index = Math.max(world.customers.length, (world.customers.at(-1)?.person.index ?? -1) + 1);
  const customer: Customer = {
    person: { ...person, email: person.email.toLowerCase(), index },
    crm: { id: String(10_000 + index * 17), createdAt: at, updatedAt: at, lists: [], ...crm },
  };
  world.customers.push(customer);
  world.byEmail.set(customer.person.email, customer);
  world.byCrmId.set(customer.crm.id, customer);
  world.revision += 1;
  return customer;
}

export interface OrderInput {
  lineItems: Order['lineItems'];
  subtotalCents: number;
  taxCents: number;
  financialStatus: FinancialStatus;
  landingSite: string;
  referringSite: string;
}

export interface AppliedOrder {
  order: Order;
  /** The buyer had no shop account before: Shopify created one at checkout. */
  newShopCustomer: boolean;
}

/** The shop customer id a person gets, the same formula as the seeded ones (ids follow the index). */
const shopIdOf = (customer: Customer) => 7_000_000_000 + customer.person.index * 131;

/**
 * Places an order now: it joins the shop's orders and the buyer's (so their order count, total
 * spent and last order change), with an id and a number above every order before it. A buyer
 * without a shop account gets one, as Shopify creates the customer at checkout.
 */
export function placeOrder(world: World, customer: Customer, input: OrderInput, at: number): AppliedOrder {
  const newShopCustomer = customer.shop === undefined;
  const highestId = world.orders.reduce((max, o) => Math.max(max, o.id), 0);
  const order: Order = {
    // Clock-based, so ids stay unique across runs against one event log; above every earlier id.
    id: Math.max(at * 10, highestId + 1),
    number: 1001 + world.orders.length,
    customerIndex: customer.person.index,
    createdAt: at,
    lineItems: input.lineItems,
    subtotalCents: input.subtotalCents,
    taxCents: input.taxCents,
    totalCents: input.subtotalCents + input.taxCents,
    financialStatus: input.financialStatus,
    landingSite: input.landingSite,
    referringSite: input.referringSite,
  };
  if (!customer.shop) {
    customer.shop = {
      id: shopIdOf(customer),
      createdAt: at,
      updatedAt: at,
      state: 'enabled',
      tags: '',
      marketingConsent: customer.audience?.status === 'subscribed' ? 'subscribed' : 'not_subscribed',
    };
    world.byShopId.set(customer.shop.id, customer);
  }
  customer.shop.updatedAt = Math.max(customer.shop.updatedAt, at);
  insertByTime(world.orders, order);
  const own = world.ordersByCustomer.get(customer.person.index);
  if (own) insertByTime(own, order);
  else world.ordersByCustomer.set(customer.person.index, [order]);
  world.revision += 1;
  return { order, newShopCustomer };
}

/** Keeps a list sorted by creation time: after every order placed at the same instant or before. */
function insertByTime(orders: Order[], order: Order): void {
  let low = 0;
  let high = orders.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((orders[mid]?.createdAt ?? 0) <= order.createdAt) low = mid + 1;
    else high = mid;
  }
  orders.splice(low, 0, order);
}
