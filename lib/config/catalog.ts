import { env } from './env.js';

/**
 * Every environment variable the product reads, in one place. Each part (gateway, a subgraph, a
 * sandbox) loads only the names it needs, so a subgraph process never sees another platform's
 * credentials. The README's configuration table is generated from this object (`npm run docs:config`).
 */
export const catalog = {
  // ── all parts ──────────────────────────────────────────────────────────────
  HOST: env.host({ description: 'Address every part binds to.', default: '127.0.0.1' }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    description: 'Minimum level of the JSON log lines written to stdout.',
    default: 'info',
  }),
  NODE_ENV: env.oneOf(['development', 'production', 'test'], {
    description: 'Deployment mode. `production` hides schema hints and refuses demo credentials.',
    default: 'development',
  }),

  // ── gateway ────────────────────────────────────────────────────────────────
  PORT: env.port({
    description: 'Port of the gateway (GraphQL at `/graphql`, health at `/health`).',
    default: '4000',
  }),
  SUPERGRAPH_FILE: env.path({
    description: 'Composed supergraph SDL the gateway serves (`npm run compose` writes it).',
    default: 'schema/supergraph.graphql',
  }),
  CRM_SUBGRAPH_URL: env.url({
    description: 'GraphQL URL of the `crm` subgraph.',
    default: 'http://127.0.0.1:4001/graphql',
  }),
  EMAIL_SUBGRAPH_URL: env.url({
    description: 'GraphQL URL of the `email` subgraph.',
    default: 'http://127.0.0.1:4002/graphql',
  }),
  COMMERCE_SUBGRAPH_URL: env.url({
    description: 'GraphQL URL of the `commerce` subgraph.',
    default: 'http://127.0.0.1:4003/graphql',
  }),
  ADS_SUBGRAPH_URL: env.url({
    description: 'GraphQL URL of the `ads` subgraph.',
    default: 'http://127.0.0.1:4004/graphql',
  }),
  SUBGRAPH_TIMEOUT_MS: env.int(100, 120_000, {
    description: 'How long the gateway waits for one subgraph fetch before failing that part of the plan.',
    default: '15000',
  }),

  // ── subgraphs ──────────────────────────────────────────────────────────────
  CRM_PORT: env.port({ description: 'Port of the `crm` subgraph.', default: '4001' }),
  EMAIL_PORT: env.port({ description: 'Port of the `email` subgraph.', default: '4002' }),
  COMMERCE_PORT: env.port({ description: 'Port of the `commerce` subgraph.', default: '4003' }),
  ADS_PORT: env.port({ description: 'Port of the `ads` subgraph.', default: '4004' }),
  UPSTREAM_TIMEOUT_MS: env.int(100, 120_000, {
    description: 'Timeout of one HTTP call from a connector to its platform.',
    default: '10000',
  }),
  UPSTREAM_MAX_RETRIES: env.int(0, 10, {
    description: 'Retries of an idempotent upstream read after a 429, 5xx or timeout, within its deadline.',
    default: '3',
  }),

  HUBSPOT_BASE_URL: env.url({
    description: 'HubSpot API base URL (`crm` subgraph).',
    default: 'https://api.hubapi.com',
  }),
  HUBSPOT_ACCESS_TOKEN: env.secret({
    description:
      'HubSpot private-app or OAuth access token, scopes `crm.objects.contacts.read crm.lists.read`.',
    required: true,
  }),
  HUBSPOT_ACCOUNT_ID: env.string({
    description: 'HubSpot portal id; keys caches and limits so two accounts never share them.',
    default: 'default',
  }),

  MAILCHIMP_API_KEY: env.secret({
    description: 'Mailchimp API key (`<key>-<dc>`); the data centre suffix picks the base URL.',
    required: true,
  }),
  MAILCHIMP_BASE_URL: env.url({
    description: 'Mailchimp API base URL; defaults to `https://<dc>.api.mailchimp.com/3.0` from the key.',
  }),
  MAILCHIMP_LIST_ID: env.string({
    description: 'Mailchimp audience (list) id the `email` subgraph reads.',
    required: true,
  }),

  SHOPIFY_BASE_URL: env.url({
    description: 'Shopify Admin REST base URL, `https://<shop>.myshopify.com/admin/api/<version>`.',
    required: true,
  }),
  SHOPIFY_ACCESS_TOKEN: env.secret({
    description: 'Shopify Admin API access token, scopes `read_customers read_orders`.',
    required: true,
  }),

  META_BASE_URL: env.url({
    description: 'Meta Graph API base URL including the version.',
    default: 'https://graph.facebook.com/v25.0',
  }),
  META_ACCESS_TOKEN: env.secret({
    description: 'Meta system-user access token with `ads_read`.',
    required: true,
  }),
  META_AD_ACCOUNT_ID: env.string({
    description: 'Meta ad account id (digits, without `act_`).',
    required: true,
  }),

  // ── sandboxes (the embedded demo) ──────────────────────────────────────────
  HUBSPOT_SANDBOX_PORT: env.port({ description: 'Port of the HubSpot sandbox.', default: '4101' }),
  MAILCHIMP_SANDBOX_PORT: env.port({ description: 'Port of the Mailchimp sandbox.', default: '4102' }),
  SHOPIFY_SANDBOX_PORT: env.port({ description: 'Port of the Shopify sandbox.', default: '4103' }),
  META_SANDBOX_PORT: env.port({ description: 'Port of the Meta sandbox.', default: '4104' }),
  SANDBOX_SEED: env.int(0, 2 ** 31 - 1, {
    description: 'Seed of the generated data; the same seed gives the same customers, orders and campaigns.',
    default: '42',
  }),
  SANDBOX_CUSTOMERS: env.int(1, 100_000, { description: 'Number of generated customers.', default: '2000' }),
  SANDBOX_ANCHOR_DATE: env.date({
    description: 'Last day of the 90 days of generated activity (default: today, UTC).',
  }),
  SANDBOX_RATE_LIMITS: env.boolean({
    description: "Enforce each platform's documented rate limits in the sandboxes.",
    default: 'true',
  }),
  SANDBOX_LATENCY_MS: env.int(0, 60_000, {
    description: 'Latency added to every sandbox response.',
    default: '0',
  }),
} as const;

export type CatalogName = keyof typeof catalog;
