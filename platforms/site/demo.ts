/**
 * DEMO WEBHOOK SECRET: not a secret. The demo's site traffic signs with it and only the demo
 * gateway verifies with it (a production gateway refuses it, events/production-guard.ts).
 */
export const SITE_DEMO = {
  // base64 of the 32 ASCII bytes `demo-site-webhook-signing-key-01`
  webhookSecret: 'whsec_ZGVtby1zaXRlLXdlYmhvb2stc2lnbmluZy1rZXktMDE=',
} as const;
