import { UpstreamError } from '../../../lib/errors.js';

/** Without `read_all_orders`, Shopify shows only the orders created in the last 60 days. */
export const RECENT_ORDERS_MS = 60 * 86_400_000;

/** Orders the question needs are older than Shopify shows this app: said, not silently left out. */
export function ordersWithheld(): UpstreamError {
  return new UpstreamError(
    'shopify: the access token lacks the read_all_orders scope, so Shopify shows only the last 60 days of orders and this answer would be incomplete',
    {
      platform: 'shopify',
      code: 'UPSTREAM_DATA_WITHHELD',
      reason: 'READ_ALL_ORDERS_SCOPE_MISSING',
      endpoint: 'GET /orders.json',
    },
  );
}

/** Shopify redacts customers' email and name for an app without level 2 protected customer data access. */
export function protectedDataWithheld(): UpstreamError {
  return new UpstreamError(
    "shopify: the app has no level 2 protected customer data access, so Shopify redacts customers' email and name and no customer can be matched by email",
    {
      platform: 'shopify',
      code: 'UPSTREAM_DATA_WITHHELD',
      reason: 'PROTECTED_CUSTOMER_DATA',
      endpoint: 'GET /customers/search.json',
    },
  );
}
