import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  defineDemoEvent,
  pickCustomer,
  type DemoTraffic,
  type OutgoingWebhook,
  type TrafficContext,
} from '../../../sandboxes/kit/traffic.js';
import { campaignVisit } from '../../../sandboxes/world/links.js';
import { randomBasket, totalSpentCents, type Customer, type Order } from '../../../sandboxes/world/world.js';
import { SHOPIFY_DEMO } from '../demo.js';
import { placeOrder } from './changes.js';
import { centsToDecimal, customerJson, orderJson, ordersOf } from './resources.js';
import { signShopify } from './sign.js';

/**
 * Shopify's webhooks in the demo: an order joins the shop (a first-time buyer gets a shop account
 * at checkout), then `customers/create` and `orders/create` say so, each body the REST resource as
 * the sandbox now serves it, signed as Shopify signs it.
 */

/** A Shopify webhook: the REST resource as the body, the topic and the event id in headers. */
function shopifyWebhook(
  context: TrafficContext,
  topic: 'orders/create' | 'customers/create',
  resource: Record<string, unknown>,
  triggeredAt: number,
): OutgoingWebhook {
  const body = JSON.stringify(resource);
  // The event id is what Shopify keeps across redeliveries; the webhook id names this delivery chain.
  const eventId = randomUUID();
  const webhookId = randomUUID();
  return {
    topic,
    url: context.endpoint,
    payload: resource,
    attempt: () => ({
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Shopify-Captain-Hook',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signShopify(context.secret, body),
        'x-shopify-shop-domain': `${SHOPIFY_DEMO.credentials.shop}.myshopify.com`,
        'x-shopify-api-version': SHOPIFY_DEMO.credentials.apiVersion,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': new Date(triggeredAt).toISOString(),
      },
      body,
    }),
  };
}

/** `orders/create` for an order already in the world: the body is the order as the sandbox serves it. */
export function orderCreated(context: TrafficContext, order: Order): OutgoingWebhook {
  return shopifyWebhook(context, 'orders/create', orderJson(context.world, order), order.createdAt);
}

/** `customers/create` for a shop customer already in the world. */
export function shopCustomerCreated(context: TrafficContext, customer: Customer): OutgoingWebhook {
  return shopifyWebhook(
    context,
    'customers/create',
    customerJson(context.world, customer),
    customer.shop?.createdAt ?? Date.now(),
  );
}

/** An order by the customer; paid orders count toward what they spent, pending ones not yet. */
const orderPlaced = defineDemoEvent({
  type: 'orders/create',
  fields: { financialStatus: z.enum(['paid', 'pending']).default('paid') },
  happen(context, customer, { financialStatus }, at) {
    const { world } = context;
    const basket = randomBasket(context.random);
    // Orders are the attribution demo: each comes from a campaign's link, so its UTM shows up.
    const visit = campaignVisit(world, context.random, 1);
    const { order, newShopCustomer } = placeOrder(
      world,
      customer,
      {
        ...basket,
        financialStatus,
        landingSite: `/products/${basket.lineItems[0]?.sku ?? 'catalog'}${visit?.query ?? ''}`,
        referringSite: visit?.referrer ?? '',
      },
      at,
    );
    const orders = ordersOf(world, customer);
    return {
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
  },
});

export const SHOPIFY_TRAFFIC: DemoTraffic = {
  events: [orderPlaced],
  kinds: [
    {
      name: 'order',
      weight: 20,
      event: orderPlaced,
      draw(context) {
        const { random } = context;
        // Mostly returning buyers; now and then someone buying for the first time.
        const customer = random.chance(0.8)
          ? pickCustomer(context, (c) => c.shop !== undefined)
          : pickCustomer(context, () => true);
        if (!customer) return undefined;
        return { customer, fields: { financialStatus: random.chance(0.9) ? 'paid' : 'pending' } };
      },
    },
  ],
};
