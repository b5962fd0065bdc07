/**
 * DEMO CREDENTIALS AND WEBHOOK SECRET: not secrets. Only the embedded sandbox accepts the token,
 * and only the demo gateway verifies with the secret (a production gateway refuses it,
 * events/production-guard.ts); HubSpot knows neither. The descriptor hands them out.
 */
export const HUBSPOT_DEMO = {
  credentials: { accessToken: 'demo-hubspot-private-app-token', accountId: '4242420' },
  webhookSecret: 'demo-hubspot-webhook-client-secret-0001',
} as const;
