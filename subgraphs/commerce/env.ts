/** The variables the `commerce` subgraph reads: Shopify's and nothing of any other platform. */
export const COMMERCE_ENV = [
  'COMMERCE_PORT',
  'SHOPIFY_BASE_URL',
  'SHOPIFY_ACCESS_TOKEN',
  'SHOPIFY_BUCKET_SIZE',
  'SHOPIFY_LEAK_PER_S',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'GATEWAY_TOKEN_JWKS',
] as const;
