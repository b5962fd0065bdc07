/** The variables the `messaging` subgraph reads: Twilio's and nothing of any other platform. */
export const MESSAGING_ENV = [
  'MESSAGING_PORT',
  'TWILIO_BASE_URL',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_KEY_SID',
  'TWILIO_API_KEY_SECRET',
  'TWILIO_FROM',
  'TWILIO_MAX_CONCURRENT',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'GATEWAY_TOKEN_JWKS',
] as const;
