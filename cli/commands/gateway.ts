import { readFileSync } from 'node:fs';
import { cacheSettingsFromEnv, openCacheStore } from '../../lib/cache/config.js';
import type { Logger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { gatewayConfigFromEnv } from '../../gateway/config.js';
import { buildGateway } from '../../gateway/server.js';
import { holdNamesOneByte } from '../../gateway/one-byte-names.js';
import { onShutdown } from '../shutdown.js';
import { eventsSettingsFromEnv } from '../../events/config.js';
import { openConfiguredEventLog } from '../event-log.js';
import { lazyEventsSubgraphFor } from '../events-subgraph.js';
import { ALERTS_ENV } from '../command-env.js';
import { loadEnv } from '../../lib/config/env.js';
import { catalog } from '../../platforms/catalog.js';
import { loadAlertsFile } from '../../monitoring/alerts/rules.js';
import { startAlertMonitor } from '../../monitoring/monitor.js';
import { openDeliveriesFor } from '../deliveries-store.js';
import { gatewayWorkerSyncs } from '../gateway-syncs.js';
import { shareHealth } from '../shared-health.js';
import { openHealthHistory } from '../health-history.js';
import type { OpenedActions } from '../actions.js';
import { publicJwksOf } from '../../lib/auth/gateway-token.js';
import { shareBudgetsThrough } from '../../lib/upstream/shared-budget-config.js';
import type { EventLogSettings } from '../../lib/events/log/open.js';
import type { JWK } from 'jose';

/**
 * The routing rules' actions when this gateway runs the event jobs itself (BACKGROUND_JOBS=gateway,
 * no workers): composed as `start` and `worker` compose them (cli/actions.ts), on each platform
 * whose credential variable is set, read as its role subgraph reads it (cli/action-connections.ts).
 * With workers, they run the actions and the gateway opens nothing.
 */
async function gatewayActions(
  key: JWK,
  backgroundJobs: 'gateway' | 'worker',
  log: EventLogSettings,
  logger: Logger,
): Promise<OpenedActions | undefined> {
  if (backgroundJobs === 'worker') return undefined;
  // Loaded here, not at the top: the actions' executors and the role subgraphs' connection readers
  // reach the platforms' connectors, which a gateway whose workers run the jobs never needs, and
  // the others only once the actions open (test/gateway/lazy-platforms.test.ts).
  const [{ ACTIONS_ENV, openActions }, { actionConnectionsFromEnv }] = await Promise.all([
    import('../actions.js'),
    import('../action-connections.js'),
  ]);
  const env = loadEnv(catalog, [...ACTIONS_ENV, 'REDIS_URL']);
  // The key set a role's reader requires is the public half of the key this gateway signs with.
  const connections = await actionConnectionsFromEnv(process.env, {
    GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(key)),
  });
  // Before any connector is built: actions spend each account's limit with the subgraphs (Redis).
  const unshare = await shareBudgetsThrough(env.REDIS_URL, logger);
  try {
    const actions = await openActions({
      log,
      connections,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
      maxRetries: env.UPSTREAM_MAX_RETRIES,
      visibilityMs: env.ACTIONS_VISIBILITY_MS,
      logger: logger.child({ component: 'actions' }),
    });
    logger.info(
      { actionPlatforms: Object.keys(actions.config.executors) },
      "routing rules' actions run here",
    );
    return {
      config: actions.config,
      async close() {
        await actions.close();
        await unshare();
      },
    };
  } catch (error) {
    await unshare();
    throw error;
  }
}

/** `gateway`: the gateway alone, in front of subgraphs running elsewhere. */
export async function gatewayCommand(logger: Logger): Promise<undefined> {
  const config = gatewayConfigFromEnv();
  // First, before anything builds a schema from the supergraph (gateway/one-byte-names.ts).
  holdNamesOneByte(readFileSync(config.supergraphFile, 'utf8'));
  const http = httpLimitsFromEnv();
  const { log: logSettings, webhookDeliveries, ...pipeline } = eventsSettingsFromEnv();
  // The log first: if it cannot be opened, start-up stops before anything else holds the process open.
  const eventLog = await openConfiguredEventLog(logSettings, logger.child({ component: 'event-log' }));
  const cacheStore = openCacheStore(cacheSettingsFromEnv(), logger);
  const deliveries = await openDeliveriesFor(
    logSettings,
    webhookDeliveries,
    logger.child({ component: 'deliveries' }),
  );
  const actions = await gatewayActions(config.gatewayTokenKey, pipeline.backgroundJobs, logSettings, logger);
  // The workers' syncs (WORKER_SYNCS=on), so their runs are in this gateway's graph.
  const syncs = await gatewayWorkerSyncs();
  // Built by its first request: a gateway whose clients never query `events` never holds it.
  const eventsSubgraph = lazyEventsSubgraphFor(
    eventLog,
    config.gatewayTokenKey,
    logger,
    deliveries ? { service: deliveries.management, supergraphFile: config.supergraphFile } : undefined,
    syncs,
  );
  const gateway = await buildGateway(
    {
      ...config,
      cacheStore,
      events: {
        ...pipeline,
        log: eventLog,
        subgraph: eventsSubgraph,
        ...(deliveries ? { deliveries: { store: deliveries.store, config: deliveries.config } } : {}),
        ...(actions ? { actions: actions.config } : {}),
      },
    },
    logger,
  );
  const listening = await listen(gateway.server, config.port, config.host, http);
  logger.info({ url: `${listening.origin}/graphql`, subgraphs: config.subgraphUrls }, 'gateway listening');
  const alertsEnv = loadEnv(catalog, ALERTS_ENV);
  // Workers' deliveries, actions and syncs, in this gateway's `integrations`, `/status` and alerts.
  const workersHealth = await shareHealth(
    'follow',
    logSettings,
    alertsEnv.HEALTH_SHARE_INTERVAL_MS,
    logger.child({ component: 'shared-health' }),
  );
  const history = await openHealthHistory({
    role: 'gateway',
    port: config.port,
    settings: logSettings,
    retentionDays: alertsEnv.HEALTH_HISTORY_RETENTION_DAYS,
    logger: logger.child({ component: 'health-history' }),
  });
  const alerts = startAlertMonitor({
    rules: loadAlertsFile(alertsEnv.ALERT_RULES_FILE),
    statusUrl: alertsEnv.ALERT_STATUS_URL ?? `${listening.origin}/status`,
    env: process.env,
    intervalMs: alertsEnv.ALERT_EVALUATE_INTERVAL_MS,
    events: (events) => gateway.events.emit(events),
    clients: () => gateway.clientUsage(),
    logger: logger.child({ component: 'alerts' }),
  });
  onShutdown(logger, async () => {
    alerts.stop();
    await workersHealth?.stop();
    await gateway.drain();
    await listening.close();
    await gateway.stop();
    await eventsSubgraph.stop();
    await deliveries?.close();
    await actions?.close();
    await syncs?.close();
    await history.stop();
    await eventLog.close();
    await cacheStore.close();
  });
  return undefined;
}
