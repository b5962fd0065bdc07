import { loadEnv } from '../../lib/config/env.js';
import { definePlatform, defineWebhookSource } from '../kit/descriptor.js';
import { defaultOf } from '../kit/docs.js';
import { SHOPIFY_OAUTH_SCOPES } from './client/protocol.js';
import { shopifyConfig } from './config.js';
import { SHOPIFY_DEMO } from './demo.js';
import { normaliseShopify } from './webhooks/normalise.js';
import { verifyShopify } from './webhooks/verify.js';
import { SHOPIFY_API_VERSIONS } from './versions.js';

/** The store's plan: its REST leaky bucket (Standard 40 leaking 2/s, Plus 400 leaking 20/s). */
export interface ShopifyPlan {
  bucketSize?: number;
  leakPerSecond?: number;
}

/** What the `commerce` subgraph's client needs to reach Shopify (or its sandbox). */
export interface ShopifyConnection {
  baseUrl: string;
  accessToken: string;
  bucketSize?: number;
  leakPerSecond?: number;
}

const webhooks = defineWebhookSource<'shopify', readonly string[]>({
  name: 'shopify',
  config: { SHOPIFY_WEBHOOK_SECRETS: shopifyConfig.SHOPIFY_WEBHOOK_SECRETS },
  secretVariable: 'SHOPIFY_WEBHOOK_SECRETS',
  ownSecret: "the Shopify app's client secret",
  fromEnv: (source, fallback) =>
    loadEnv(shopifyConfig, ['SHOPIFY_WEBHOOK_SECRETS'], source).SHOPIFY_WEBHOOK_SECRETS ?? fallback,
  secretsOf: (secrets) => secrets,
  demoSecret: SHOPIFY_DEMO.webhookSecret,
  demo: [SHOPIFY_DEMO.webhookSecret],
  verify: (request, secrets) =>
    verifyShopify({ rawBody: request.rawBody, headers: request.headers }, { secrets }),
  normalise: normaliseShopify,
  demoTraffic: async () => (await import('./sandbox/traffic.js')).SHOPIFY_TRAFFIC,
});

const sandboxBaseUrl = (origin: string) => `${origin}/admin/api/${SHOPIFY_DEMO.credentials.apiVersion}`;

/** Shopify: commerce, the system of record for what a customer bought. */
export const shopify = definePlatform({
  name: 'shopify',
  title: 'Shopify',
  config: shopifyConfig,
  credential: {
    variable: 'SHOPIFY_ACCESS_TOKEN',
    header: 'x-shopify-access-token',
    scopes: SHOPIFY_OAUTH_SCOPES,
    leastPrivilege:
      'Read scopes only. `read_all_orders` because with `read_orders` alone Shopify shows only the last 60 days of orders; without it, fields that need older orders answer `UPSTREAM_DATA_WITHHELD` (`reason: READ_ALL_ORDERS_SCOPE_MISSING`) and `/health` lists the missing scope. The app also needs level 2 protected customer data access: without it Shopify redacts email and name, no customer can be matched by email, and the commerce fields answer `UPSTREAM_DATA_WITHHELD` (`reason: PROTECTED_CUSTOMER_DATA`).',
  },
  webhooks,
  sandbox: {
    portVariable: 'SHOPIFY_SANDBOX_PORT',
    demoCredentials: SHOPIFY_DEMO.credentials,
    // Loaded on first use: a gateway or subgraph never builds a sandbox (issue 17, target 2).
    create: async (world, plan?: ShopifyPlan) =>
      (await import('./sandbox/index.js')).createShopifySandbox({
        world,
        accessToken: SHOPIFY_DEMO.credentials.accessToken,
        ...(plan?.bucketSize !== undefined ? { bucketSize: plan.bucketSize } : {}),
        ...(plan?.leakPerSecond !== undefined ? { leakPerSecond: plan.leakPerSecond } : {}),
      }),
    baseUrl: sandboxBaseUrl,
    connection: (origin, plan?: ShopifyPlan): ShopifyConnection => ({
      baseUrl: sandboxBaseUrl(origin),
      accessToken: SHOPIFY_DEMO.credentials.accessToken,
      ...(plan?.bucketSize !== undefined ? { bucketSize: plan.bucketSize } : {}),
      ...(plan?.leakPerSecond !== undefined ? { leakPerSecond: plan.leakPerSecond } : {}),
    }),
  },
  apiVersions: SHOPIFY_API_VERSIONS,
  contract: async () => (await import('./contract.js')).shopifyContract,
  docs: {
    role: 'commerce',
    subgraph: 'commerce',
    api: 'Shopify Admin REST API (customers, orders, shop)',
    limits: [
      {
        published: `${shopifyConfig.SHOPIFY_BUCKET_SIZE.description} ${shopifyConfig.SHOPIFY_LEAK_PER_S.description}`,
        throttle: `A leaky bucket of \`SHOPIFY_BUCKET_SIZE\` (${defaultOf(shopifyConfig.SHOPIFY_BUCKET_SIZE)}) draining \`SHOPIFY_LEAK_PER_S\` (${defaultOf(shopifyConfig.SHOPIFY_LEAK_PER_S)}) calls per second, corrected by \`X-Shopify-Shop-Api-Call-Limit\` (it counts every app of the store); a 429's \`Retry-After\` holds every queued call.`,
        variables: ['SHOPIFY_BUCKET_SIZE', 'SHOPIFY_LEAK_PER_S'],
      },
    ],
    webhook: {
      source: 'shopify',
      signature:
        '`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 (app client secret) of the raw body. It signs no timestamp.',
      replay:
        'Redeliveries and replays are deduplicated on a SHA-256 of the signed body, never on the unsigned `X-Shopify-Event-Id`: a captured body sent again under a new id is stored once.',
      variables: ['SHOPIFY_WEBHOOK_SECRETS'],
      subscribe: '`orders/create`, `customers/create`',
      described: "The shop's webhooks (Shopify).",
      becomes: {
        ORDER_PLACED: 'An order was placed in the shop.',
        CUSTOMER_CREATED: 'A customer account was created in the shop.',
      },
    },
  },
});
