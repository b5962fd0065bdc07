import DataLoader from 'dataloader';
import { SHOPIFY_LIMITS, type ShopifyConnector } from '../../connectors/shopify/connector.js';
import type { ShopCustomer, ShopOrder } from '../../connectors/shopify/records.js';
import type { RequestContext } from '../../lib/request-context.js';

/** The most orders `Customer.orders(first:)` returns, and so how many one look-up fetches. */
export const CUSTOMER_ORDERS_MAX = 100;

/** A range of whole UTC days, already checked. */
export interface DayRange {
  since: string;
  until: string;
  startMs: number;
  endMs: number;
}

export interface CommerceLoaders {
  customerByEmail: DataLoader<string, ShopCustomer | null>;
  /** A customer's newest orders (up to CUSTOMER_ORDERS_MAX), newest first, by Shopify customer id. */
  ordersOfCustomer: DataLoader<string, ShopOrder[]>;
  /** Every order created in a range, read once however many campaign keys of that range ask. */
  ordersInRange: DataLoader<DayRange, ShopOrder[], string>;
  /** The shop's currency, read at most once per request. */
  shopCurrency(): Promise<string>;
}

/**
 * One set per request: every customer look-up of one GraphQL request (entity references from the
 * gateway) lands in searches of up to 50 emails; orders are read once per customer and per range.
 */
export function createCommerceLoaders(shopify: ShopifyConnector, request: RequestContext): CommerceLoaders {
  const customerByEmail = new DataLoader<string, ShopCustomer | null>(
    async (emails) => {
      const found = await shopify.findCustomersByEmail(request, emails);
      return emails.map((email) => found.get(email.toLowerCase()) ?? null);
    },
    { maxBatchSize: SHOPIFY_LIMITS.emailsPerSearch, cacheKeyFn: (email) => email.toLowerCase() },
  );
  const ordersOfCustomer = new DataLoader<string, ShopOrder[]>((ids) =>
    Promise.all(ids.map((id) => shopify.listCustomerOrders(request, id, { limit: CUSTOMER_ORDERS_MAX }))),
  );
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
    ordersInRange,
    shopCurrency() {
      currency ??= shopify.getShop(request).then((shop) => shop.currency);
      return currency;
    },
  };
}
