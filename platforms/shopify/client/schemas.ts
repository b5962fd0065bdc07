import { z } from 'zod';
import { parseDecimal } from '../../../lib/money.js';

/** Shopify Admin REST payloads as documented; only the fields the connector asks for with `fields=`. */

/** Shopify writes instants with the shop's UTC offset (`2026-03-01T09:30:00-05:00`). */
const isoInstant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 date-time');
/** Money is a decimal string (`"199.00"`), never a JSON number. */
const decimal = z.string().refine((v) => {
  try {
    parseDecimal(v);
    return true;
  } catch {
    return false;
  }
}, 'expected a decimal string');
const currency = z.string().regex(/^[A-Za-z]{3}$/, 'expected an ISO-4217 currency code');
const id = z.number().int().positive();

export const customer = z.object({
  id,
  email: z.string().nullable(),
  orders_count: z.number().int().min(0),
  total_spent: decimal,
  currency,
  last_order_id: id.nullable(),
});
export type ShopifyCustomer = z.output<typeof customer>;

export const financialStatus = z.enum([
  'pending',
  'authorized',
  'partially_paid',
  'paid',
  'partially_refunded',
  'refunded',
  'voided',
]);

export const order = z.object({
  id,
  name: z.string().min(1),
  created_at: isoInstant,
  total_price: decimal,
  currency,
  financial_status: financialStatus,
  landing_site: z.string().nullable(),
  /** Null for a guest checkout. */
  customer: z.object({ id }).nullable().optional(),
});
export type ShopifyOrder = z.output<typeof order>;

export const customersResponse = z.object({ customers: z.array(customer) });
export const customerResponse = z.object({ customer });
export const ordersResponse = z.object({ orders: z.array(order) });
export const shopResponse = z.object({ shop: z.object({ currency }) });
/** `GET /admin/oauth/access_scopes.json`: the scopes the access token was granted. */
export const accessScopesResponse = z.object({ access_scopes: z.array(z.object({ handle: z.string() })) });
export const countResponse = z.object({ count: z.number().int().min(0) });
/** `orders.json?ids=…&fields=id,created_at`: when each order was placed, and nothing else. */
export const orderInstantsResponse = z.object({ orders: z.array(z.object({ id, created_at: isoInstant })) });
