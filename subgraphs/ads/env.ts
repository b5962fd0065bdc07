/** The variables the `ads` subgraph reads: Meta's and nothing of any other platform. */
export const ADS_ENV = [
  'ADS_PORT',
  'META_BASE_URL',
  'META_ACCESS_TOKEN',
  'META_AD_ACCOUNT_ID',
  'META_INSIGHTS_CALLS_PER_HOUR',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'GATEWAY_TOKEN_JWKS',
] as const;
