/**
 * DEMO CREDENTIALS: not secrets. Only the embedded sandboxes accept them; the real platforms do not
 * know them. `npm start` wires the subgraphs to the sandboxes with these so the demo runs offline.
 */
export const DEMO_CREDENTIALS = {
  hubspot: { accessToken: 'demo-hubspot-private-app-token', accountId: '4242420' },
  mailchimp: { apiKey: 'demo0000000000000000000000000000-us21', listId: 'a1b2c3d4e5' },
  shopify: {
    accessToken: 'shpat_demo00000000000000000000000000',
    shop: 'demo-outdoor-co',
    apiVersion: '2026-10',
  },
  meta: { accessToken: 'EAADEMO0000000000000000000000000000', adAccountId: '1234567890' },
  twilio: {
    accountSid: 'AC00000000000000000000000000000042',
    // Also the demo webhook secret (lib/webhooks/demo-secrets.ts): Twilio signs with the auth token.
    authToken: 'demo-twilio-auth-token-000000001',
    apiKeySid: 'SK00000000000000000000000000000042',
    apiKeySecret: 'demo-twilio-api-key-secret-00001',
    // Twilio's own test number for `From` (valid with test credentials, never a real handset).
    from: '+15005550006',
    messagingServiceSid: 'MG00000000000000000000000000000042',
  },
} as const;
