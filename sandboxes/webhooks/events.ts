import type { PlatformName as Platform } from '../../platforms/registry.js';
import { centsToDecimal, ordersOf } from '../../platforms/shopify/sandbox/resources.js';
import {
  changeContact,
  changeMember,
  laterStages,
  LEAD_STATUSES,
  memberEventAllowed,
  placeOrder,
  TransitionError,
  type LeadStatus,
  type LifecycleStage,
  type MemberEvent,
} from '../world/changes.js';
import { randomBasket, totalSpentCents, type Customer } from '../world/world.js';
import {
  campaignQuery,
  contactPropertyChanges,
  memberEvent,
  orderCreated,
  shopCustomerCreated,
  type OutgoingWebhook,
  type WebhookContext,
  type WebhookKind,
} from './payloads.js';

/**
 * Platform events as something that happens to the world: each is applied to the sandboxes' state
 * first, then written as the webhooks that report it. The emitter draws them at random among the
 * transitions the current state allows; `POST /__sandbox/webhooks` takes them from a user.
 */

/**
 * The events each sandbox sends through the emitter, by the platform's own names. Meta sends the
 * gateway none; Twilio's sandbox sends its own (status callbacks, incoming messages).
 */
export const EVENT_TYPES = {
  hubspot: ['contact.propertyChange'],
  mailchimp: ['subscribe', 'unsubscribe', 'cleaned'],
  shopify: ['orders/create'],
  meta: [],
  twilio: [],
} as const satisfies Record<Platform, readonly string[]>;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES][number];

export type EventRequest =
  | {
      type: 'contact.propertyChange';
      customer: Customer;
      /** @default the next stage */
      lifecycleStage?: LifecycleStage;
      leadStatus?: LeadStatus;
    }
  | { type: MemberEvent; customer: Customer }
  | {
      type: 'orders/create';
      customer: Customer;
      /** Paid orders count toward what the customer spent; pending ones not yet. */
      financialStatus: 'paid' | 'pending';
    };

export interface Happened {
  type: EventType;
  customer: Customer;
  /** What changed in the sandbox, to show whoever asked. */
  applied: Record<string, unknown>;
  /** The webhooks that report it, in the order they are to be sent. */
  webhooks: OutgoingWebhook[];
}

/**
 * Applies an event to the world and writes its webhooks. A transition the platform would not make
 * throws TransitionError and changes nothing.
 */
export function happen(request: EventRequest, context: WebhookContext, at = Date.now()): Happened {
  const { world } = context;
  const { customer } = request;
  switch (request.type) {
    case 'contact.propertyChange': {
      const lifecycleStage =
        request.lifecycleStage ?? (request.leadStatus === undefined ? nextStage(customer) : undefined);
      const applied = changeContact(
        world,
        customer,
        {
          ...(lifecycleStage !== undefined ? { lifecycleStage } : {}),
          ...(request.leadStatus !== undefined ? { leadStatus: request.leadStatus } : {}),
        },
        at,
      );
      const changes = [
        ...(applied.lifecycleStage
          ? [{ propertyName: 'lifecyclestage', propertyValue: applied.lifecycleStage.to }]
          : []),
        ...(applied.leadStatus
          ? [{ propertyName: 'hs_lead_status', propertyValue: applied.leadStatus.to }]
          : []),
      ];
      return {
        type: request.type,
        customer,
        applied: { ...applied },
        webhooks: [contactPropertyChanges(context, customer, changes, at)],
      };
    }
    case 'subscribe':
    case 'unsubscribe':
    case 'cleaned': {
      const applied = changeMember(world, customer, request.type, at);
      return {
        type: request.type,
        customer,
        applied: { status: applied },
        webhooks: [memberEvent(context, customer, request.type, at)],
      };
    }
    case 'orders/create': {
      const basket = randomBasket(context.random);
      // Orders are the attribution demo: each comes from a campaign's link, so its UTM shows up.
      const query = campaignQuery(context, 1);
      const { order, newShopCustomer } = placeOrder(
        world,
        customer,
        {
          ...basket,
          financialStatus: request.financialStatus,
          landingSite: `/products/${basket.lineItems[0]?.sku ?? 'catalog'}${query}`,
          referringSite: query.includes('facebook') ? 'https://l.facebook.com/' : '',
        },
        at,
      );
      const orders = ordersOf(world, customer);
      return {
        type: request.type,
        customer,
        applied: {
          order: {
            id: order.id,
            name: `#${order.number}`,
            totalPrice: centsToDecimal(order.totalCents),
            financialStatus: order.financialStatus,
          },
          ordersCount: orders.length,
          totalSpent: centsToDecimal(totalSpentCents(orders)),
          newShopCustomer,
        },
        // Shopify creates the customer at checkout, before the order, and says so in that order.
        webhooks: [
          ...(newShopCustomer ? [shopCustomerCreated(context, customer)] : []),
          orderCreated(context, order),
        ],
      };
    }
  }
}

function nextStage(customer: Customer): LifecycleStage {
  const next = laterStages(customer.crm.lifecycleStage)[0];
  if (next === undefined)
    throw new TransitionError(
      `Contact ${customer.crm.id} is at lifecycle stage ${customer.crm.lifecycleStage}, the last one: there is no stage to move it to.`,
    );
  return next;
}

/**
 * A random event of a kind, among the transitions the world's current state allows; undefined
 * when nobody can have one (every member cleaned, every contact at the last stage).
 */
export function drawEvent(
  kind: Exclude<WebhookKind, 'form-fill' | 'page-view'>,
  context: WebhookContext,
): EventRequest | undefined {
  const { world, random } = context;
  const pick = (where: (customer: Customer) => boolean): Customer | undefined => {
    const candidates = world.customers.filter(where);
    return candidates.length > 0 ? random.pick(candidates) : undefined;
  };
  switch (kind) {
    case 'order': {
      // Mostly returning buyers; now and then someone buying for the first time.
      const customer = random.chance(0.8) ? pick((c) => c.shop !== undefined) : pick(() => true);
      if (!customer) return undefined;
      return { type: 'orders/create', customer, financialStatus: random.chance(0.9) ? 'paid' : 'pending' };
    }
    case 'subscribe':
    case 'unsubscribe':
    case 'cleaned': {
      const customer = pick((c) => memberEventAllowed(kind, c));
      return customer ? { type: kind, customer } : undefined;
    }
    case 'contact-change': {
      const customer = pick((c) => laterStages(c.crm.lifecycleStage).length > 0);
      if (!customer) return undefined;
      const later = laterStages(customer.crm.lifecycleStage);
      // Usually one step along the funnel; sometimes a jump (a lead who buys at once).
      const lifecycleStage = random.chance(0.7) ? later[0] : random.pick(later);
      const leadStatus = random.chance(0.4)
        ? random.pick(LEAD_STATUSES.filter((status) => status !== customer.crm.leadStatus))
        : undefined;
      return {
        type: 'contact.propertyChange',
        customer,
        ...(lifecycleStage !== undefined ? { lifecycleStage } : {}),
        ...(leadStatus !== undefined ? { leadStatus } : {}),
      };
    }
  }
}
