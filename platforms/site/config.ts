import { env } from '../../lib/config/env.js';

/** The company site's configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const siteConfig = {
  SITE_WEBHOOK_SECRETS: env.secretList({
    description: 'Standard Webhooks `whsec_` secret(s) the company site signs `/webhooks/site` with.',
  }),
} as const;
