import type { Customer, FinancialStatus, Order, World } from '../../../sandboxes/world/world.js';

/**
 * What can happen in the shop once the world is generated: a customer places an order (and gets a
 * shop account at checkout). Applied in place (see sandboxes/world/changes.ts), so the sandbox
 * serves it from then on.
 */

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
