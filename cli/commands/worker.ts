import { hostname } from 'node:os';
import { Agent } from 'undici';
import { GatewayTokenSigner, parsePrivateJwk, publicJwksOf } from '../../lib/auth/gateway-token.js';
import { EVENT_PROCESSOR_SCOPES, SYSTEM_CALLERS } from '../../lib/auth/system-callers.js';
import { ConfigError, loadEnv } from '../../lib/config/env.js';
import { subgraphUrlVariable } from '../../lib/graphql/subgraph-names.js';
import { eventLogGauges } from '../../lib/events/log/gauges.js';
import { startJobs } from '../../lib/jobs/runner.js';
import { buildJobServer } from '../../lib/jobs/server.js';
import type { Logger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { httpLimitsFromEnv } from '../../lib/server/limits.js';
import { metricsTokenFromEnv } from '../../lib/server/metrics-endpoint.js';
import { catalog } from '../../platforms/catalog.js';
import { assertLogSharedByWorkers, eventLogSettings } from '../../events/config.js';
import { subgraphInvalidation } from '../../events/invalidation.js';
import { eventJobs } from '../../events/jobs.js';
import type { CachingSubgraph } from '../../events/processor.js';
import { remoteGraphRead, remoteGraphReadAs } from '../../events/remote-graph.js';
import { loadRoutingRules } from '../../events/routing.js';
import { deliveriesConfigFromEnv } from '../../events/deliveries-config.js';
import { enrichedPayload } from '../../events/webhook-enrichment.js';
import { openDeliveryStore } from '../../deliveries/index.js';
import { outboxGauges } from '../../deliveries/metrics.js';
import { openActions } from '../actions.js';
import { actionConnectionsFromEnv } from '../action-connections.js';
import { CACHING_SUBGRAPHS, WORKER_ENV } from '../command-env.js';
import { openConfiguredEventLog } from '../event-log.js';
import { onShutdown } from '../shutdown.js';
import { workerSyncJobs } from '../worker-syncs.js';
import { shareBudgetsThrough } from '../../lib/upstream/shared-budget-config.js';
import { shareHealth } from '../shared-health.js';
import { openHealthHistory } from '../health-history.js';

const DAY_MS = 86_400_000;

/**
 * `worker`: the background jobs (the routing rules' actions, event processing, webhook deliveries,
 * retention; events/jobs.ts) without serving GraphQL. Any number of workers share the Redis event
 * log, delivery store and action outbox, each claiming work for a while (EVENT_PROCESSOR_VISIBILITY_MS,
 * WEBHOOK_CLAIM_LEASE_MS, ACTIONS_VISIBILITY_MS): a worker that dies leaves its claims to the others.
 * It reads the graph through a gateway (GATEWAY_URL): as the event processor for routing, as an
 * endpoint's owner for a webhook's enrichment. It runs actions on each platform whose credentials
 * it is given, and serves `/health` and `/metrics` on WORKER_PORT.
 */
export async function workerCommand(logger: Logger): Promise<undefined> {
  const env = loadEnv(catalog, WORKER_ENV);
  // Before anything opens: the embedded log cannot be shared, and saying so beats a silent worker.
  assertLogSharedByWorkers(env.EVENT_LOG, 'the worker');
  if (!env.GATEWAY_TOKEN_PRIVATE_JWK)
    throw new ConfigError([
      "GATEWAY_TOKEN_PRIVATE_JWK: required, the gateway's private Ed25519 JWK (JSON with a kid): the worker signs the event processor's tokens with it",
    ]);
  let key;
  try {
    key = parsePrivateJwk(env.GATEWAY_TOKEN_PRIVATE_JWK);
  } catch (error) {
    throw new ConfigError([
      `GATEWAY_TOKEN_PRIVATE_JWK: ${(error as Error).message.replace(/^GATEWAY_TOKEN_PRIVATE_JWK /, '')}`,
    ]);
  }
  const http = httpLimitsFromEnv();
  const metricsToken = metricsTokenFromEnv();
  const routingRules = loadRoutingRules(env.ROUTING_RULES_FILE);
  const webhookDeliveries = deliveriesConfigFromEnv();
  // The platforms' variables are read as their subgraphs read them; the key set they require is
  // the public half of the key this worker already holds.
  const connections = await actionConnectionsFromEnv(process.env, {
    GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(key)),
  });
  const logSettings = eventLogSettings({
    kind: env.EVENT_LOG,
    dataDir: '',
    synchronous: 'full',
    redisUrl: env.REDIS_URL,
    prefix: env.EVENT_LOG_PREFIX,
  });
  const log = await openConfiguredEventLog(logSettings, logger.child({ component: 'event-log' }));
  const closers: (() => Promise<void>)[] = [() => log.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    // The same Redis, under the log's prefix, as the gateways' management API uses.
    const store = await openDeliveryStore({
      kind: 'redis',
      url: env.REDIS_URL ?? '',
      prefix: `${env.EVENT_LOG_PREFIX}:deliveries`,
    });
    closers.push(() => store.close());
    // Before any connector is built: actions and syncs spend each account's limit with the subgraphs.
    closers.push(await shareBudgetsThrough(env.REDIS_URL, logger));
    const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000, pipelining: 1 });
    closers.push(() => agent.close());
    // The outbox on the shared Redis, claims held ACTIONS_VISIBILITY_MS (cli/actions.ts, as every command).
    const actions = await openActions({
      log: logSettings,
      connections,
      timeoutMs: env.UPSTREAM_TIMEOUT_MS,
      maxRetries: env.UPSTREAM_MAX_RETRIES,
      visibilityMs: env.ACTIONS_VISIBILITY_MS,
      logger: logger.child({ component: 'actions' }),
    });
    closers.push(() => actions.close());
    const signer = new GatewayTokenSigner(key);
    const processId = `worker-${hostname()}-${process.pid}`;
    const { jobs, deliveries } = eventJobs({
      log,
      routingRules,
      retention: { maxAgeMs: env.EVENTS_RETENTION_DAYS * DAY_MS, maxEvents: env.EVENTS_RETENTION_MAX },
      processor: {
        concurrency: env.EVENT_PROCESSOR_CONCURRENCY,
        visibilityMs: env.EVENT_PROCESSOR_VISIBILITY_MS,
      },
      // Claims named after the process: Redis's XINFO CONSUMERS then says which worker holds what.
      processorId: processId,
      readGraph: remoteGraphRead({ gatewayUrl: env.GATEWAY_URL, signer, agent }),
      invalidate: subgraphInvalidation({
        subgraphUrls: Object.fromEntries(
          CACHING_SUBGRAPHS.map((name) => [name, env[subgraphUrlVariable(name)]]),
        ) as Record<CachingSubgraph, string>,
        signer,
        caller: { clientId: SYSTEM_CALLERS.eventProcessor, scopes: EVENT_PROCESSOR_SCOPES },
        agent,
      }),
      actions: actions.config,
      deliveries: {
        store,
        config: webhookDeliveries,
        // An endpoint's selection read through the gateway with its owner's permissions.
        payload: enrichedPayload(remoteGraphReadAs({ gatewayUrl: env.GATEWAY_URL, signer, agent })),
      },
      logger: logger.child({ component: 'events' }),
    });
    jobs.push(
      ...(await workerSyncJobs(log, logger, process.env, {
        GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(key)),
      })),
    );
    const running = await startJobs(jobs, logger);
    closers.push(() => running.stop());
    // Its deliveries', actions' and syncs' figures, for the gateways' `integrations` and `/status`
    // (closed before the jobs stop, in reverse order, so the last snapshot is deleted, not left stale).
    const health = await shareHealth(
      { publishAs: processId },
      logSettings,
      env.HEALTH_SHARE_INTERVAL_MS,
      logger.child({ component: 'shared-health' }),
    );
    if (health) closers.push(() => health.stop());
    // Its figures beyond 24 hours (the review's quarter), and back after a restart.
    const history = await openHealthHistory({
      role: 'worker',
      port: env.WORKER_PORT,
      settings: logSettings,
      retentionDays: env.HEALTH_HISTORY_RETENTION_DAYS,
      logger: logger.child({ component: 'health-history' }),
    });
    closers.push(() => history.stop());
    const gauges = async () => [
      ...(await eventLogGauges(log)),
      ...(deliveries() ? outboxGauges(await store.stats()) : []),
    ];
    const listening = await listen(
      buildJobServer({ jobs: running, metricsToken, gauges, logger }),
      env.WORKER_PORT,
      env.HOST,
      http,
    );
    logger.info(
      {
        url: listening.origin,
        gateway: env.GATEWAY_URL,
        jobs: jobs.map((job) => job.name),
        actionPlatforms: Object.keys(actions.config.executors),
      },
      'worker listening',
    );
    onShutdown(logger, async () => {
      await listening.close();
      // Claims in hand are finished first; whatever is left expires and another worker takes it.
      await closeAll();
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  return undefined;
}
