import DataLoader from 'dataloader';
import type { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import type { ShopCustomer, ShopOrder } from '../../platforms/shopify/client/records.js';
import type { RequestContext } from '../../lib/request-context.js';

/** A range of whole UTC days, already checked. */
export interface DayRange {
  since: string;
  until: string;
  startMs: number;
  endMs: number;
}

/** The newest `first` orders of one shop customer. */
export interface CustomerOrdersKey {
  customerId: string;
  first: number;
}

export interface CommerceLoaders {
  /**
   * Shop customers by email, null when the shop does not know it. The whole batch goes to the
   * connector at once, so it can pick searches of 50 or a scan of the shop, whichever costs fewer calls.
   */
  customerByEmail: DataLoader<string, ShopCustomer | null>;
  /** A customer's newest orders, newest first: one call per customer, for the largest `first` asked. */
  ordersOfCustomer: DataLoader<CustomerOrdersKey, ShopOrder[], string>;
  /** When an order was created, by order id (customers' last orders): one call per 250 orders. */
  orderCreatedAt: DataLoader<string, string | null>;
  /** Every order created in a range, read once however many campaign keys of that range ask. */
  ordersInRange: DataLoader<DayRange, ShopOrder[], string>;
  /** The shop's currency, read at most once per request. */
  shopCurrency(): Promise<string>;
}

/**
 * One set per request: every customer look-up of one GraphQL request (entity references from the
 * gateway) lands in one batch; orders are read once per customer, per last order and per range.
 */
export function createCommerceLoaders(shopify: ShopifyConnector, request: RequestContext): CommerceLoaders {
  const customerByEmail = new DataLoader<string, ShopCustomer | null>(
    async (emails) => {
      const found = await shopify.findCustomersByEmail(request, emails);
      return emails.map((email) => found.get(email.toLowerCase()) ?? null);
    },
    { cacheKeyFn: (email) => email.toLowerCase() },
  );
  const ordersOfCustomer = new DataLoader<CustomerOrdersKey, ShopOrder[], string>(
    async (keys) => {
      const most = new Map<string, number>();
      for (const key of keys) most.set(key.customerId, Math.max(most.get(key.customerId) ?? 0, key.first));
      const read = new Map(
        await Promise.all(
          [...most].map(
            async ([customerId, first]) =>
              [customerId, await shopify.listCustomerOrders(request, customerId, { limit: first })] as const,
          ),
        ),
      );
      return keys.map((key) => (read.get(key.customerId) ?? []).slice(0, key.first));
    },
    { cacheKeyFn: (key) => `${key.customerId}:${key.first}` },
  );
  const orderCreatedAt = new DataLoader<string, string | null>(async (ids) => {
    const found = await shopify.getOrderCreatedAt(request, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
  const ordersInRange = new DataLoader<DayRange, ShopOrder[], string>(
    (ranges) =>
      Promise.all(
        ranges.map((range) =>
          shopify.listOrders(request, { createdAtMinMs: range.startMs, createdAtMaxMs: range.endMs }),
        ),
      ),
    { cacheKeyFn: (range) => `${range.since}/${range.until}` },
  );
  let currency: Promise<string> | undefined;
  return {
    customerByEmail,
    ordersOfCustomer,
    orderCreatedAt,
    ordersInRange,
    shopCurrency() {
      currency ??= shopify.getShop(request).then((shop) => shop.currency);
      return currency;
    },
  };
}
