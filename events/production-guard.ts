import { ConfigError } from '../lib/config/env.js';
import type { EventSource } from '../lib/events/event.js';
import type { WebhookSource } from '../platforms/kit/descriptor.js';
import { WEBHOOK_SOURCES } from '../platforms/registry.js';
import type { WebhookSecrets } from './ingest.js';

const sources = WEBHOOK_SOURCES as readonly WebhookSource[];

/** The sources verified with a published demo secret (alone or next to a real one). */
export function sourcesWithDemoSecrets(webhooks: WebhookSecrets): EventSource[] {
  return sources
    .filter((source) => {
      const configured: unknown = webhooks[source.name as keyof WebhookSecrets];
      return configured !== undefined && source.secretsOf(configured).includes(source.demoSecret);
    })
    .map((source) => source.name);
}

/**
 * Stops a production gateway from accepting webhooks signed with the demo secrets: they are
 * published in this repository, so anyone could forge orders, contacts and form fills into the
 * event log. Throws a ConfigError (exit code 2) naming each variable; other modes accept them.
 * `npm start` fills unset sources with the demo secrets, so there the refusal names those too.
 */
export function assertNoDemoWebhookSecrets(webhooks: WebhookSecrets, nodeEnv: string): void {
  if (nodeEnv !== 'production') return;
  const names = sourcesWithDemoSecrets(webhooks);
  const demoSources = sources.filter((source) => names.includes(source.name));
  if (demoSources.length === 0) return;
  throw new ConfigError(
    demoSources.map(
      (source) =>
        `${source.secretVariable}: holds the public demo webhook secret (platforms/${source.name}/demo.ts; \`npm start\` uses it when the variable is unset), which NODE_ENV=production refuses; set ${source.ownSecret}`,
    ),
  );
}
