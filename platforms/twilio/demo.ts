/** The demo account's auth token: Twilio signs webhooks with it, so it is the webhook secret too. */
const AUTH_TOKEN = 'demo-twilio-auth-token-000000001';

/**
 * DEMO CREDENTIALS AND WEBHOOK SECRET: not secrets. Only the embedded sandbox accepts them, and
 * only the demo gateway verifies with the token (a production gateway refuses it,
 * events/production-guard.ts); Twilio knows none of them. The descriptor hands them out.
 */
export const TWILIO_DEMO = {
  credentials: {
    accountSid: 'AC00000000000000000000000000000042',
    authToken: AUTH_TOKEN,
    apiKeySid: 'SK00000000000000000000000000000042',
    apiKeySecret: 'demo-twilio-api-key-secret-00001',
    // Twilio's own test number for `From` (valid with test credentials, never a real handset).
    from: '+15005550006',
    messagingServiceSid: 'MG00000000000000000000000000000042',
  },
  webhookSecret: AUTH_TOKEN,
} as const;
