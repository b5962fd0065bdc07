import { join } from 'node:path';
import { catalog } from '../../lib/config/catalog.js';
import { ConfigError, loadEnv } from '../../lib/config/env.js';
import type { EventLogSettings } from '../../lib/events/log/open.js';
import { standardWebhookSecretSchema } from '../webhooks/verify/standard-webhooks.js';
import type { WebhookSecrets } from './ingest.js';
import { assertNoDemoWebhookSecrets } from './production-guard.js';
import { loadRoutingRules, type RoutingRule } from './routing.js';

export const EVENTS_ENV = [
  'NODE_ENV',
  'EVENT_LOG',
  'DATA_DIR',
  'EVENT_LOG_SYNC',
  'EVENT_LOG_PREFIX',
  'REDIS_URL',
  'EVENTS_RETENTION_DAYS',
  'EVENTS_RETENTION_MAX',
  'ROUTING_RULES_FILE',
  'WEBHOOK_PUBLIC_URL',
  'TRUSTED_PROXIES',
  'HUBSPOT_WEBHOOK_SECRETS',
  'HUBSPOT_WEBHOOK_V1',
  'SHOPIFY_WEBHOOK_SECRETS',
  'MAILCHIMP_WEBHOOK_SECRETS',
  'SITE_WEBHOOK_SECRETS',
  'EVENT_PROCESSOR_CONCURRENCY',
] as const;

/**
 * Everything the event pipeline needs that is not opened yet (the log is opened from `log`); the
 * rest is the runtime's own `EventsConfig` shape, so callers pass it on as it is.
 */
export interface EventsSettings {
  log: EventLogSettings;
  webhooks: WebhookSecrets;
  publicUrl?: string;
  trustedProxies?: readonly string[];
  routingRules: RoutingRule[];
  retention: { maxAgeMs: number; maxEvents: number };
  processor: { concurrency: number };
}

const DAY_MS = 86_400_000;

/** The event log the settings name: the embedded file under `dataDir`, or Redis Streams. */
export function eventLogSettings(options: {
  kind: 'sqlite' | 'redis';
  dataDir: string;
  synchronous: 'full' | 'normal';
  redisUrl: string | undefined;
  prefix: string;
}): EventLogSettings {
  if (options.kind === 'sqlite') {
    return { kind: 'sqlite', file: join(options.dataDir, 'events.db'), synchronous: options.synchronous };
  }
  if (!options.redisUrl)
    throw new ConfigError(['EVENT_LOG: `redis` needs REDIS_URL, the Redis every gateway instance shares']);
  return { kind: 'redis', url: options.redisUrl, prefix: options.prefix };
}

/**
 * Webhook secrets from the environment. `defaults` fills sources left unset (the embedded demo's
 * labelled demo secrets); a deployment sets its own, and an unset source is simply not served.
 * With NODE_ENV=production a demo secret, set or filled in, is a ConfigError naming its variable.
 */
export function eventsSettingsFromEnv(
  source: NodeJS.ProcessEnv = process.env,
  defaults: WebhookSecrets = {},
): EventsSettings {
  const env = loadEnv(catalog, EVENTS_ENV, source);
  const site = env.SITE_WEBHOOK_SECRETS ?? defaults.site;
  const badSite = site?.some((secret) => !standardWebhookSecretSchema.safeParse(secret).success);
  if (badSite)
    throw new ConfigError([
      'SITE_WEBHOOK_SECRETS: expected `whsec_` followed by the base64 of 24 to 64 bytes, (value not shown)',
    ]);
  const hubspot = env.HUBSPOT_WEBHOOK_SECRETS ?? defaults.hubspot?.secrets;
  const shopify = env.SHOPIFY_WEBHOOK_SECRETS ?? defaults.shopify;
  const mailchimp = env.MAILCHIMP_WEBHOOK_SECRETS ?? defaults.mailchimp;
  const webhooks: WebhookSecrets = {
    ...(hubspot ? { hubspot: { secrets: hubspot, acceptV1: env.HUBSPOT_WEBHOOK_V1 } } : {}),
    ...(shopify ? { shopify } : {}),
    ...(mailchimp ? { mailchimp } : {}),
    ...(site ? { site } : {}),
  };
  assertNoDemoWebhookSecrets(webhooks, env.NODE_ENV);
  return {
    log: eventLogSettings({
      kind: env.EVENT_LOG,
      dataDir: env.DATA_DIR,
      synchronous: env.EVENT_LOG_SYNC,
      redisUrl: env.REDIS_URL,
      prefix: env.EVENT_LOG_PREFIX,
    }),
    webhooks,
    ...(env.WEBHOOK_PUBLIC_URL ? { publicUrl: env.WEBHOOK_PUBLIC_URL } : {}),
    ...(env.TRUSTED_PROXIES ? { trustedProxies: env.TRUSTED_PROXIES } : {}),
    routingRules: loadRoutingRules(env.ROUTING_RULES_FILE),
    retention: { maxAgeMs: env.EVENTS_RETENTION_DAYS * DAY_MS, maxEvents: env.EVENTS_RETENTION_MAX },
    processor: { concurrency: env.EVENT_PROCESSOR_CONCURRENCY },
  };
}
