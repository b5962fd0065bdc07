import { env } from '../../lib/config/env.js';

/** Shopify configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const shopifyConfig = {
  SHOPIFY_WEBHOOK_SECRETS: env.secretList({
    description: 'Shopify app client secret(s) that sign `/webhooks/shopify` (new and old while rotating).',
  }),
  SHOPIFY_BASE_URL: env.url({
    description: 'Shopify Admin REST base URL, `https://<shop>.myshopify.com/admin/api/<version>`.',
    required: true,
  }),
  SHOPIFY_BUCKET_SIZE: env.int(1, 10_000, {
    description: "Size of Shopify's REST leaky bucket for this store (Standard 40, Plus 400).",
    default: '40',
  }),
  SHOPIFY_LEAK_PER_S: env.number(0.1, 1_000, {
    description: "Calls per second Shopify's bucket drains for this store (Standard 2, Advanced 4, Plus 20).",
    default: '2',
  }),
  SHOPIFY_ACCESS_TOKEN: env.secret({
    description:
      'Shopify Admin API access token, scopes `read_customers read_orders read_all_orders` (without `read_all_orders` Shopify shows only the last 60 days of orders), and level 2 protected customer data access (email and name).',
    required: true,
  }),
  SHOPIFY_SANDBOX_PORT: env.port({ description: 'Port of the Shopify sandbox.', default: '4103' }),
} as const;
