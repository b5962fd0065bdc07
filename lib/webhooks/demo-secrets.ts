/**
 * DEMO WEBHOOK SECRETS: not secrets. The embedded demo's webhook emitter signs with these and the
 * gateway's demo configuration verifies with them, so events flow offline after `npm start`. No
 * platform knows them; a real deployment configures the platforms' own secrets instead, and the
 * gateway refuses to start with any of them when NODE_ENV=production
 * (events/production-guard.ts). Here in lib because both the sandboxes (which sign) and
 * the gateway (which refuses them in production) need them, and neither may import the other.
 */
export const DEMO_WEBHOOK_SECRETS = {
  hubspot: 'demo-hubspot-webhook-client-secret-0001',
  shopify: 'demo-shopify-webhook-client-secret-0001',
  mailchimp: 'demo-mailchimp-webhook-url-secret-0001',
  // base64 of the 32 ASCII bytes `demo-site-webhook-signing-key-01`
  site: 'whsec_ZGVtby1zaXRlLXdlYmhvb2stc2lnbmluZy1rZXktMDE=',
} as const;
