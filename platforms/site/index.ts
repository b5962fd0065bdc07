import { ConfigError, loadEnv } from '../../lib/config/env.js';
import {
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  standardWebhookSecretSchema,
  verifyStandardWebhook,
} from '../../lib/webhooks/standard-webhooks.js';
import { defineWebhookSource, type WebhookFlow } from '../kit/descriptor.js';
import { siteConfig } from './config.js';
import { SITE_DEMO } from './demo.js';
import { normaliseSite } from './webhooks/normalise.js';

/**
 * The company's own site: not an upstream platform (no client, no sandbox, no subgraph), only a
 * source of signed webhooks (Standard Webhooks) into the event log, described here once.
 */
export const site = defineWebhookSource<'site', readonly string[]>({
  name: 'site',
  config: siteConfig,
  secretVariable: 'SITE_WEBHOOK_SECRETS',
  ownSecret: "the site's own `whsec_` signing secret",
  fromEnv(source, fallback) {
    const secrets = loadEnv(siteConfig, ['SITE_WEBHOOK_SECRETS'], source).SITE_WEBHOOK_SECRETS ?? fallback;
    if (secrets?.some((secret) => !standardWebhookSecretSchema.safeParse(secret).success))
      throw new ConfigError([
        'SITE_WEBHOOK_SECRETS: expected `whsec_` followed by the base64 of 24 to 64 bytes, (value not shown)',
      ]);
    return secrets;
  },
  secretsOf: (secrets) => secrets,
  demoSecret: SITE_DEMO.webhookSecret,
  demo: [SITE_DEMO.webhookSecret],
  verify: (request, secrets) =>
    verifyStandardWebhook({ rawBody: request.rawBody, headers: request.headers }, { secrets }),
  normalise: normaliseSite,
  demoTraffic: async () => (await import('./sandbox/traffic.js')).SITE_TRAFFIC,
});

/** What the data-flow document says of the site's webhooks. */
export const SITE_WEBHOOK: WebhookFlow = {
  source: 'site',
  signature:
    '[Standard Webhooks](https://www.standardwebhooks.com/) `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries over `webhook-id.webhook-timestamp.body`, keyed with a `whsec_` secret.',
  replay: `Timestamps more than ${STANDARD_WEBHOOKS_TOLERANCE_SECONDS} s away are refused; redeliveries are deduplicated on \`webhook-id\`, which the signature covers.`,
  variables: ['SITE_WEBHOOK_SECRETS'],
  subscribe: '`form.submitted`, `page.viewed`',
  described: "The company's own site and forms (Standard Webhooks).",
  becomes: {
    FORM_SUBMITTED: "A form on the company's site was submitted.",
    PAGE_VIEWED: "A page of the company's site was viewed.",
  },
};
