/**
 * DEMO CREDENTIALS AND WEBHOOK SECRET: not secrets. Only the embedded sandbox accepts the token,
 * and only the demo gateway verifies with the secret (a production gateway refuses it,
 * events/production-guard.ts); Shopify knows neither. The descriptor hands them out.
 */
export const SHOPIFY_DEMO = {
  credentials: {
    accessToken: 'shpat_demo00000000000000000000000000',
    shop: 'demo-outdoor-co',
    apiVersion: '2026-10',
  },
  webhookSecret: 'demo-shopify-webhook-client-secret-0001',
} as const;
