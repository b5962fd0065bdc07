import { ConfigError, loadEnv } from '../lib/config/env.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { WorkerJob } from '../lib/jobs/job.js';
import type { Logger } from '../lib/logger.js';
import { catalog } from '../platforms/catalog.js';
import { syncEvent } from '../syncs/events.js';
import { syncWorkerJob } from '../syncs/jobs.js';
import { WORKER_SYNC_ENV } from './command-env.js';
import { syncConnections } from './sync-connections.js';
import { syncsFileOrConfigError } from './gateway-syncs.js';

/**
 * A worker's sync job, or none when WORKER_SYNCS is off: SYNCS_FILE's syncs on BullMQ, their state
 * in the worker's Redis beside the event log (`<EVENT_LOG_PREFIX>:syncs`), each destination
 * reached as `sync run` reaches it (cli/sync-connections.ts), and each run's outcome appended to
 * the event log.
 */
export async function workerSyncJobs(
  log: EventLog,
  logger: Logger,
  source = process.env,
  /** Variables the platforms' readers require that a worker derives itself (GATEWAY_TOKEN_JWKS). */
  extra: NodeJS.ProcessEnv = {},
): Promise<WorkerJob[]> {
  const env = loadEnv(catalog, WORKER_SYNC_ENV, source);
  if (env.WORKER_SYNCS !== 'on') return [];
  if (!env.REDIS_URL)
    throw new ConfigError([
      'REDIS_URL: required with WORKER_SYNCS=on: the workers schedule the syncs and keep their state in that Redis',
    ]);
  const redisUrl = env.REDIS_URL;
  const definitions = syncsFileOrConfigError(env.SYNCS_FILE, env.SYNC_MIN_INTERVAL_MS);
  const { apiKey, connect } = await syncConnections({
    source,
    production: env.NODE_ENV === 'production',
    apiKey: env.SYNC_API_KEY,
    requiredWith: 'WORKER_SYNCS=on',
    extra,
  });
  const syncLogger = logger.child({ component: 'syncs' });
  return [
    syncWorkerJob({
      definitions,
      redisUrl,
      prefix: `${env.EVENT_LOG_PREFIX}:syncs`,
      gatewayUrl: env.SYNC_GATEWAY_URL,
      apiKey,
      connect,
      lockMs: env.SYNC_LOCK_MS,
      logger: syncLogger,
      onEvent: (event) => {
        log
          .append([syncEvent(event, Date.now())])
          .catch((error: unknown) =>
            syncLogger.warn(
              { error: error instanceof Error ? error.message : 'error', event: event.type },
              'a sync event was not logged',
            ),
          );
      },
    }),
  ];
}
