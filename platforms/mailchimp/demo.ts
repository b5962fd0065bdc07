/**
 * DEMO CREDENTIALS AND WEBHOOK SECRET: not secrets. Only the embedded sandbox accepts the key, and
 * only the demo gateway verifies with the URL secret (a production gateway refuses it,
 * events/production-guard.ts); Mailchimp knows neither. The descriptor hands them out.
 */
export const MAILCHIMP_DEMO = {
  credentials: { apiKey: 'demo0000000000000000000000000000-us21', listId: 'a1b2c3d4e5' },
  webhookSecret: 'demo-mailchimp-webhook-url-secret-0001',
} as const;
