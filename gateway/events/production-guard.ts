import { ConfigError } from '../../lib/config/env.js';
import type { EventSource } from '../../lib/events/event.js';
import { DEMO_WEBHOOK_SECRETS } from '../../lib/webhooks/demo-secrets.js';
import type { WebhookSecrets } from './ingest.js';

/** The variable each source's secrets come from, to name in the refusal. */
const SECRET_VARIABLES: Record<EventSource, string> = {
  hubspot: 'HUBSPOT_WEBHOOK_SECRETS',
  shopify: 'SHOPIFY_WEBHOOK_SECRETS',
  mailchimp: 'MAILCHIMP_WEBHOOK_SECRETS',
  site: 'SITE_WEBHOOK_SECRETS',
};

/** What each source is signed with on the platform's side, for the operator to set instead. */
const OWN_SECRET: Record<EventSource, string> = {
  hubspot: "the HubSpot app's client secret",
  shopify: "the Shopify app's client secret",
  mailchimp: 'a random secret for the URL registered with Mailchimp',
  site: "the site's own `whsec_` signing secret",
};

/** The sources verified with a published demo secret (alone or next to a real one). */
export function sourcesWithDemoSecrets(webhooks: WebhookSecrets): EventSource[] {
  const configured: Record<EventSource, readonly string[]> = {
    hubspot: webhooks.hubspot?.secrets ?? [],
    shopify: webhooks.shopify ?? [],
    mailchimp: webhooks.mailchimp ?? [],
    site: webhooks.site ?? [],
  };
  return (Object.keys(configured) as EventSource[]).filter((source) =>
    configured[source].includes(DEMO_WEBHOOK_SECRETS[source]),
  );
}

/**
 * Stops a production gateway from accepting webhooks signed with the demo secrets: they are
 * published in this repository, so anyone could forge orders, contacts and form fills into the
 * event log. Throws a ConfigError (exit code 2) naming each variable; other modes accept them.
 * `npm start` fills unset sources with the demo secrets, so there the refusal names those too.
 */
export function assertNoDemoWebhookSecrets(webhooks: WebhookSecrets, nodeEnv: string): void {
  if (nodeEnv !== 'production') return;
  const sources = sourcesWithDemoSecrets(webhooks);
  if (sources.length === 0) return;
  throw new ConfigError(
    sources.map(
      (source) =>
        `${SECRET_VARIABLES[source]}: holds the public demo webhook secret (lib/webhooks/demo-secrets.ts; \`npm start\` uses it when the variable is unset), which NODE_ENV=production refuses; set ${OWN_SECRET[source]}`,
    ),
  );
}
