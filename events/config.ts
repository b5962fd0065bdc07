import { join } from 'node:path';
import { catalog } from '../platforms/catalog.js';
import { ConfigError, loadEnv } from '../lib/config/env.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import type { WebhookSource } from '../platforms/kit/descriptor.js';
import { WEBHOOK_SOURCES } from '../platforms/registry.js';
import type { WebhookSecrets } from './ingest.js';
import { assertNoDemoWebhookSecrets } from './production-guard.js';
import { loadRoutingRules, type RoutingRule } from './routing.js';

/** What the event pipeline reads itself; each webhook source reads its own (WEBHOOK_SOURCES_ENV). */
const EVENTS_CORE_ENV = [
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
  'EVENT_PROCESSOR_CONCURRENCY',
  'EVENT_PROCESSOR_VISIBILITY_MS',
  'BACKGROUND_JOBS',
] as const;

/** Each webhook source's secrets and switches, from its descriptor. */
export const WEBHOOK_SOURCES_ENV: readonly string[] = WEBHOOK_SOURCES.flatMap((source) =>
  Object.keys(source.config),
);

export const EVENTS_ENV: readonly string[] = [...EVENTS_CORE_ENV, ...WEBHOOK_SOURCES_ENV];

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
  processor: { concurrency: number; visibilityMs: number };
  backgroundJobs: 'gateway' | 'worker';
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
 * Workers share processing through the log's claims, so they need a log every process reaches
 * and hears from: Redis. The embedded SQLite file has one writer, the gateway process, which
 * tells only itself about deliveries; a worker beside it would process events its subscribers
 * never hear of. Refused at start-up, naming the variables to change.
 */
export function assertLogSharedByWorkers(kind: 'sqlite' | 'redis', who: string): void {
  if (kind === 'redis') return;
  throw new ConfigError([
    `EVENT_LOG: ${who} needs EVENT_LOG=redis (with REDIS_URL). The embedded SQLite event log is written by one process, the gateway, which runs the background jobs itself: leave BACKGROUND_JOBS=gateway (the default) and run no worker, or move the log to Redis`,
  ]);
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
  const env = loadEnv(catalog, EVENTS_CORE_ENV, source);
  const webhooks: WebhookSecrets = {};
  for (const webhookSource of WEBHOOK_SOURCES as readonly WebhookSource[]) {
    const fallback: unknown = defaults[webhookSource.name as keyof WebhookSecrets];
    const configured = webhookSource.fromEnv(source, fallback);
    if (configured !== undefined) Object.assign(webhooks, { [webhookSource.name]: configured });
  }
  assertNoDemoWebhookSecrets(webhooks, env.NODE_ENV);
  if (env.BACKGROUND_JOBS === 'worker') assertLogSharedByWorkers(env.EVENT_LOG, 'BACKGROUND_JOBS=worker');
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
    processor: {
      concurrency: env.EVENT_PROCESSOR_CONCURRENCY,
      visibilityMs: env.EVENT_PROCESSOR_VISIBILITY_MS,
    },
    backgroundJobs: env.BACKGROUND_JOBS,
  };
}
