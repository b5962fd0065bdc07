import { hostname } from 'node:os';
import { Agent } from 'undici';
import { GatewayTokenSigner, parsePrivateJwk } from '../../lib/auth/gateway-token.js';
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
import { remoteGraphRead } from '../../events/remote-graph.js';
import { loadRoutingRules } from '../../events/routing.js';
import { CACHING_SUBGRAPHS, WORKER_ENV } from '../command-env.js';
import { openConfiguredEventLog } from '../event-log.js';
import { onShutdown } from '../shutdown.js';
import { workerSyncJobs } from '../worker-syncs.js';

const DAY_MS = 86_400_000;

/**
 * `worker`: the background jobs (event processing, retention; deliveries and syncs as they join
 * events/jobs.ts) without serving GraphQL. Any number of workers share a Redis event log, each
 * claiming events for a while (EVENT_PROCESSOR_VISIBILITY_MS): a worker that dies leaves its
 * claims to the others. It reads the graph through a gateway (GATEWAY_URL) as the event processor
 * and serves `/health` and `/metrics` on WORKER_PORT.
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
  const log = await openConfiguredEventLog(
    eventLogSettings({
      kind: env.EVENT_LOG,
      dataDir: '',
      synchronous: 'full',
      redisUrl: env.REDIS_URL,
      prefix: env.EVENT_LOG_PREFIX,
    }),
    logger.child({ component: 'event-log' }),
  );
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000, pipelining: 1 });
  const signer = new GatewayTokenSigner(key);
  const { jobs } = eventJobs({
    log,
    routingRules,
    retention: { maxAgeMs: env.EVENTS_RETENTION_DAYS * DAY_MS, maxEvents: env.EVENTS_RETENTION_MAX },
    processor: {
      concurrency: env.EVENT_PROCESSOR_CONCURRENCY,
      visibilityMs: env.EVENT_PROCESSOR_VISIBILITY_MS,
    },
    // Claims named after the process: Redis's XINFO CONSUMERS then says which worker holds what.
    processorId: `worker-${hostname()}-${process.pid}`,
    readGraph: remoteGraphRead({ gatewayUrl: env.GATEWAY_URL, signer, agent }),
    invalidate: subgraphInvalidation({
      subgraphUrls: Object.fromEntries(
        CACHING_SUBGRAPHS.map((name) => [name, env[subgraphUrlVariable(name)]]),
      ) as Record<CachingSubgraph, string>,
      signer,
      caller: { clientId: SYSTEM_CALLERS.eventProcessor, scopes: EVENT_PROCESSOR_SCOPES },
      agent,
    }),
    logger: logger.child({ component: 'events' }),
  });
  jobs.push(...workerSyncJobs(log, logger));
  const running = await startJobs(jobs, logger);
  const listening = await listen(
    buildJobServer({ jobs: running, metricsToken, gauges: () => eventLogGauges(log), logger }),
    env.WORKER_PORT,
    env.HOST,
    http,
  );
  logger.info(
    { url: listening.origin, gateway: env.GATEWAY_URL, jobs: jobs.map((job) => job.name) },
    'worker listening',
  );
  onShutdown(logger, async () => {
    await listening.close();
    // Claims in hand are finished first; whatever is left expires and another worker takes it.
    await running.stop();
    await log.close();
    await agent.close();
  });
  return undefined;
}
