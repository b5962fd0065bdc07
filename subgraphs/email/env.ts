/** The variables the `email` subgraph reads: Mailchimp's and nothing of any other platform. */
export const EMAIL_ENV = [
  'EMAIL_PORT',
  'MAILCHIMP_API_KEY',
  'MAILCHIMP_BASE_URL',
  'MAILCHIMP_LIST_ID',
  'MAILCHIMP_MAX_CONNECTIONS',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'GATEWAY_TOKEN_JWKS',
] as const;
