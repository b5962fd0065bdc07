import type { LevelWithSilent } from 'pino';
import { authConfigFromEnv } from '../../gateway/auth/config.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { cacheSettingsFromEnv } from '../../lib/cache/config.js';
import { catalog } from '../../platforms/catalog.js';
import { loadEnv } from '../../lib/config/env.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { todayUtc } from '../../lib/dates.js';
import { exampleDateRange } from '../../lib/graphql/example-dates.js';
import { createLogger } from '../../lib/logger.js';
import {
  PLATFORM_SUBGRAPHS,
  subgraphPortVariable,
  type PlatformSubgraphName,
} from '../../lib/graphql/subgraph-names.js';
import { sandboxPorts, START_ENV, SYNC_ENV } from '../command-env.js';
import type { StackSyncOptions } from '../stack-syncs.js';
import { syncsStateFile } from '../../syncs/service.js';
import { EVENT_SOURCE_NAMES, PLATFORM_NAMES } from '../../platforms/registry.js';
import { CAUSE_EXAMPLE } from '../../sandboxes/webhooks/traffic.js';
import { onShutdown } from '../shutdown.js';
import { DEMO_WEBHOOK_VERIFICATION, startStack } from '../stack.js';
import { eventsSettingsFromEnv } from '../../events/config.js';
import { loadAlertsFile } from '../../monitoring/alerts/rules.js';

/** The demo's batch syncs (SYNCS_FILE), on schedule, their state beside the event log. */
function demoSyncs(): StackSyncOptions {
  const env = loadEnv(catalog, SYNC_ENV);
  return {
    file: env.SYNCS_FILE,
    minIntervalMs: env.SYNC_MIN_INTERVAL_MS,
    stateFile: syncsStateFile(env.DATA_DIR),
    apiKey: env.SYNC_API_KEY ?? DEMO_API_KEYS['personalization-service'],
    schedule: true,
  };
}

/** `start`: the embedded demo, everything in one process, and a banner saying where it all is. */
export async function startCommand(level: LevelWithSilent): Promise<undefined> {
  const env = loadEnv(catalog, START_ENV);
  const cache = cacheSettingsFromEnv();
  const http = httpLimitsFromEnv();
  const auth = authConfigFromEnv();
  // The demo emitter signs with the labelled demo secrets; a source given its own secret keeps it.
  // With NODE_ENV=production this throws (exit 2) before any part listens: the demo secrets are public.
  const events = eventsSettingsFromEnv(process.env, DEMO_WEBHOOK_VERIFICATION);
  const anchorDate = env.SANDBOX_ANCHOR_DATE ?? todayUtc();
  const loggers = new Map<string, ReturnType<typeof createLogger>>();
  const logger = (part: string) => {
    let l = loggers.get(part);
    if (!l) {
      l = createLogger({ name: part, level });
      loggers.set(part, l);
    }
    return l;
  };
  const stack = await startStack({
    host: env.HOST,
    ports: {
      gateway: env.PORT,
      ...(Object.fromEntries(
        PLATFORM_SUBGRAPHS.map((name) => [name, env[subgraphPortVariable(name)]]),
      ) as Record<PlatformSubgraphName, number>),
      ...sandboxPorts(),
    },
    world: { seed: env.SANDBOX_SEED, customers: env.SANDBOX_CUSTOMERS, anchorDate },
    rateLimits: env.SANDBOX_RATE_LIMITS,
    sandboxLatencyMs: env.SANDBOX_LATENCY_MS,
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    requestDeadline: { defaultMs: env.REQUEST_DEADLINE_MS, maxMs: env.REQUEST_DEADLINE_MAX_MS },
    supergraphFile: env.SUPERGRAPH_FILE,
    mode: env.NODE_ENV,
    cache,
    http,
    responseCache: env.RESPONSE_CACHE,
    access: {
      auth,
      authorizationMode: env.AUTHORIZATION_MODE,
      subscriptionCaps: {
        perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
        perClient: env.SUBSCRIPTIONS_PER_CLIENT,
      },
    },
    events: {
      ...events,
      webhooksPerMinute: env.SANDBOX_WEBHOOKS_PER_MINUTE,
      healthShareIntervalMs: env.HEALTH_SHARE_INTERVAL_MS,
      history: { retentionDays: env.HEALTH_HISTORY_RETENTION_DAYS },
    },
    syncs: demoSyncs(),
    alerts: {
      rules: loadAlertsFile(env.ALERT_RULES_FILE),
      intervalMs: env.ALERT_EVALUATE_INTERVAL_MS,
      ...(env.ALERT_STATUS_URL ? { statusUrl: env.ALERT_STATUS_URL } : {}),
    },
    logger,
  });
  const firstEmail = stack.world.customers[0]?.person.email ?? 'someone@example.com';
  const firstId = stack.world.customers[0]?.crm.id ?? '10000';
  const { since, until } = exampleDateRange(anchorDate);
  const o = stack.origins;
  // Last, once every part listens: what a person needs stays on screen (demo traffic logs at debug).
  // The loggers write asynchronously; flushed first, none of their start-up lines lands below it.
  await Promise.all(
    [...loggers.values()].map((l) => new Promise<void>((resolve) => l.flush(() => resolve()))),
  );
  process.stdout.write(`
marketing-graph is running (embedded demo: sandboxes with ${stack.world.customers.length} generated customers, activity up to ${anchorDate})

  explorer    ${o.gateway}/explorer   (open it in a browser and paste a key below into Headers)
  gateway     ${stack.gatewayUrl}      health: ${o.gateway}/health
  subgraphs   ${PLATFORM_SUBGRAPHS.map((name) => `${name} ${o[name]}/graphql`).join('   ')}
  sandboxes   ${PLATFORM_NAMES.map((name) => `${name} ${o[name]}`).join('   ')}
  events      webhooks ${o.gateway}/webhooks/{${EVENT_SOURCE_NAMES.join(',')}}
              subscriptions ${stack.gatewayUrl.replace(/^http/, 'ws')} (graphql-ws) and ${o.gateway}/graphql/stream (SSE)
              live demo traffic: ${env.SANDBOX_WEBHOOKS_PER_MINUTE} signed webhooks a minute from the sandboxes (SANDBOX_WEBHOOKS_PER_MINUTE; 0 stops them)${
                CAUSE_EXAMPLE
                  ? `
              cause one: curl -s ${o[CAUSE_EXAMPLE.platform]}/__sandbox/webhooks -H 'content-type: application/json' -d '${JSON.stringify(CAUSE_EXAMPLE.body(firstId))}'`
                  : ''
              }

Every call needs credentials. The demo registry's public DEMO keys (refused in production):
  reporting-dashboard      ${DEMO_API_KEYS['reporting-dashboard']}   (campaigns:read ads:read)
  personalization-service  ${DEMO_API_KEYS['personalization-service']}   (crm:read pii:read email:read commerce:read events:read)
  marketing-automation     ${DEMO_API_KEYS['marketing-automation']}   (crm:read email:read commerce:read events:read, no personal data)
  admin                    ${DEMO_API_KEYS.admin}   (every scope)

Try, as the personalization service and as the reporting dashboard:
  curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -H 'authorization: Bearer ${DEMO_API_KEYS['personalization-service']}' \\
    -d '{"query":"{ customer(email: \\"${firstEmail}\\") { id firstName lifecycleStage emailSubscription { status } ordersCount lifetimeValue { amount currency } } }"}'

  curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -H 'authorization: Bearer ${DEMO_API_KEYS['reporting-dashboard']}' \\
    -d '{"query":"{ campaignPerformance(since: \\"${since}\\", until: \\"${until}\\") { key ads { spend { amount } } commerce { revenue { amount } } roas } }"}'

Watch events arrive (Server-Sent Events; graphql-ws clients use ${stack.gatewayUrl.replace(/^http/, 'ws')}):
  curl -sN ${o.gateway}/graphql/stream -H 'content-type: application/json' -H 'accept: text/event-stream' -H 'authorization: Bearer ${DEMO_API_KEYS['personalization-service']}' \\
    -d '{"query":"subscription { events { type source occurredAt channels customer { email lifecycleStage lifetimeValue { amount } } } }"}'

`);
  onShutdown(logger('cli'), stack.close);
  return undefined;
}
