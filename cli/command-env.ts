import { loadEnv } from '../lib/config/env.js';
import { catalog } from '../platforms/catalog.js';
import { PLATFORMS, platformNamed, type PlatformName } from '../platforms/registry.js';
import { HTTP_LIMITS_ENV } from '../lib/server/limits.js';
import {
  PLATFORM_SUBGRAPHS,
  subgraphPortVariable,
  subgraphUrlVariable,
} from '../lib/graphql/subgraph-names.js';
import { METRICS_ENV } from '../lib/server/metrics-endpoint.js';

/** What the alert monitor reads (`start` and `gateway`); channels' secrets are named by the rules file. */
export const ALERTS_ENV = [
  'ALERT_RULES_FILE',
  'ALERT_EVALUATE_INTERVAL_MS',
  'ALERT_STATUS_URL',
  'HEALTH_SHARE_INTERVAL_MS',
  'HEALTH_HISTORY_RETENTION_DAYS',
] as const;

/**
 * The variables the CLI's own commands read, apart from the commands' code so `--help` lists them
 * without loading a server. (The gateway's, the subgraphs' and the shared loaders' lists live
 * beside their loaders.)
 */

/** What `start` reads itself; it also reads AUTH_ENV, CACHE_ENV and EVENTS_ENV through their loaders. */
export const START_ENV = [
  'HOST',
  'NODE_ENV',
  'PORT',
  'SUPERGRAPH_FILE',
  'SUBGRAPH_TIMEOUT_MS',
  'REQUEST_DEADLINE_MS',
  'REQUEST_DEADLINE_MAX_MS',
  ...PLATFORM_SUBGRAPHS.map(subgraphPortVariable),
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'SANDBOX_SEED',
  'SANDBOX_CUSTOMERS',
  'SANDBOX_ANCHOR_DATE',
  'SANDBOX_RATE_LIMITS',
  'SANDBOX_LATENCY_MS',
  'RESPONSE_CACHE',
  'AUTHORIZATION_MODE',
  'SUBSCRIPTIONS_PER_CONNECTION',
  'SUBSCRIPTIONS_PER_CLIENT',
  'SANDBOX_WEBHOOKS_PER_MINUTE',
  ...HTTP_LIMITS_ENV,
  ...ALERTS_ENV,
] as const;

/** Each sandbox's port variable, from its platform's descriptor. */
export const SANDBOX_PORT_VARIABLES: readonly string[] = PLATFORMS.map(
  (platform) => platform.sandbox.portVariable,
);

/** `start`'s variables: its own, and every sandbox's port. */
export const START_ENV_ALL: readonly string[] = [
  ...START_ENV,
  ...SANDBOX_PORT_VARIABLES,
  'SYNCS_FILE',
  'SYNC_API_KEY',
];

/** The port of each platform's sandbox, from its port variable. */
export function sandboxPorts(source: NodeJS.ProcessEnv = process.env): Record<PlatformName, number> {
  const env: Record<string, unknown> = loadEnv(
    catalog,
    SANDBOX_PORT_VARIABLES as (keyof typeof catalog)[],
    source,
  );
  return Object.fromEntries(
    PLATFORMS.map((platform) => [platform.name, env[platform.sandbox.portVariable] as number]),
  ) as Record<PlatformName, number>;
}

/** The variables `sandbox <platform>` reads: its own port, the generated data's settings, its scraper's token. */
export function sandboxEnv(platform: PlatformName) {
  return [
    'HOST',
    platformNamed(platform).sandbox.portVariable as keyof typeof catalog,
    'SANDBOX_SEED',
    'SANDBOX_CUSTOMERS',
    'SANDBOX_ANCHOR_DATE',
    'SANDBOX_RATE_LIMITS',
    'SANDBOX_LATENCY_MS',
    'SANDBOX_WEBHOOK_TARGET',
    ...HTTP_LIMITS_ENV,
    ...METRICS_ENV,
  ] as const;
}

/** What `sync` reads, besides each sandbox's port (the demo destinations). */
export const SYNC_ENV = [
  'NODE_ENV',
  'SYNCS_FILE',
  'SYNC_GATEWAY_URL',
  'SYNC_API_KEY',
  'DATA_DIR',
  'SYNC_MIN_INTERVAL_MS',
] as const;

/** `sync`'s sub-commands, for its usage error and its `--help`. */
export const SYNC_USAGE = `Usage: marketing-graph sync <command>

Commands:
  list                            the syncs in SYNCS_FILE: destination, mode, schedule, last run
  run NAME [--dry-run] [--full]   run one sync now; --dry-run counts and samples without writing,
                                  --full resends every row, not only what changed`;

/** The platform subgraphs that cache records a webhook can make stale (events/processor.ts CachingSubgraph). */
export const CACHING_SUBGRAPHS = ['crm', 'email', 'commerce'] as const;

/**
 * What `worker` reads: where it listens, the gateway it reads the graph through and the key it
 * signs the event processor's tokens with, the caching subgraphs it tells about changes, and the
 * event log and processing settings the gateway's pipeline reads too (no webhook secrets: a worker
 * takes no webhooks).
 */
export const WORKER_ENV = [
  'HOST',
  'WORKER_PORT',
  'NODE_ENV',
  'GATEWAY_URL',
  'GATEWAY_TOKEN_PRIVATE_JWK',
  ...CACHING_SUBGRAPHS.map(subgraphUrlVariable),
  'EVENT_LOG',
  'REDIS_URL',
  'EVENT_LOG_PREFIX',
  'EVENTS_RETENTION_DAYS',
  'EVENTS_RETENTION_MAX',
  'ROUTING_RULES_FILE',
  'EVENT_PROCESSOR_CONCURRENCY',
  'EVENT_PROCESSOR_VISIBILITY_MS',
  'ACTIONS_VISIBILITY_MS',
  'HEALTH_SHARE_INTERVAL_MS',
  'HEALTH_HISTORY_RETENTION_DAYS',
  // Webhooks out, as the gateway reads them (events/deliveries-config.ts DELIVERIES_ENV).
  'WEBHOOK_SECRET_SEALING_KEY',
  'WEBHOOK_ALLOW_HOSTS',
  'WEBHOOK_ATTEMPT_TIMEOUT_MS',
  'WEBHOOK_RETRY_SCHEDULE',
  'WEBHOOK_CLAIM_LEASE_MS',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  ...HTTP_LIMITS_ENV,
  ...METRICS_ENV,
] as const;

/**
 * What a gateway reads to show the workers' syncs in the graph (`WORKER_SYNCS=on`): their file,
 * and the Redis and prefix their state and queues are under.
 */
export const GATEWAY_SYNC_ENV = [
  'WORKER_SYNCS',
  'SYNCS_FILE',
  'SYNC_MIN_INTERVAL_MS',
  'SYNC_DRY_RUN_TIMEOUT_MS',
  'REDIS_URL',
  'EVENT_LOG_PREFIX',
] as const;

/** The variables a worker's syncs read (`WORKER_SYNCS=on`). */
export const WORKER_SYNC_ENV = [
  'NODE_ENV',
  'WORKER_SYNCS',
  'SYNCS_FILE',
  'SYNC_GATEWAY_URL',
  'SYNC_API_KEY',
  'SYNC_LOCK_MS',
  'SYNC_MIN_INTERVAL_MS',
  'REDIS_URL',
  'EVENT_LOG_PREFIX',
] as const;
