/** The variables the `crm` subgraph reads: HubSpot's and nothing of any other platform. */
export const CRM_ENV = [
  'CRM_PORT',
  'HUBSPOT_BASE_URL',
  'HUBSPOT_ACCESS_TOKEN',
  'HUBSPOT_ACCOUNT_ID',
  'HUBSPOT_RATE_LIMIT_PER_10S',
  'HUBSPOT_TIME_ZONE',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'GATEWAY_TOKEN_JWKS',
] as const;
