import { DEMO_API_KEYS } from '../gateway/auth/demo-keys.js';
import { ConfigError, loadEnv } from '../lib/config/env.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { WorkerJob } from '../lib/jobs/job.js';
import { registerSecret, type Logger } from '../lib/logger.js';
import { catalog } from '../platforms/catalog.js';
import { syncEvent } from '../syncs/events.js';
import { syncWorkerJob } from '../syncs/jobs.js';
import { sandboxPorts, WORKER_SYNC_ENV } from './command-env.js';
import { syncsFileOrConfigError } from './gateway-syncs.js';

/**
 * A worker's sync job, or none when WORKER_SYNCS is off: SYNCS_FILE's syncs on BullMQ, their state
 * in the worker's Redis beside the event log (`<EVENT_LOG_PREFIX>:syncs`), the demo sandboxes as
 * destinations (as `sync run`), and each run's outcome appended to the event log.
 */
export function workerSyncJobs(log: EventLog, logger: Logger, source = process.env): WorkerJob[] {
  const env = loadEnv(catalog, WORKER_SYNC_ENV, source);
  if (env.WORKER_SYNCS !== 'on') return [];
  if (env.NODE_ENV === 'production')
    throw new ConfigError([
      'WORKER_SYNCS: the syncs write to the platform sandboxes of the embedded demo; production destinations are not wired to them yet',
    ]);
  if (!env.REDIS_URL)
    throw new ConfigError([
      'REDIS_URL: required with WORKER_SYNCS=on: the workers schedule the syncs and keep their state in that Redis',
    ]);
  const redisUrl = env.REDIS_URL;
  const definitions = syncsFileOrConfigError(env.SYNCS_FILE, env.SYNC_MIN_INTERVAL_MS);
  const apiKey = env.SYNC_API_KEY ?? DEMO_API_KEYS['personalization-service'];
  registerSecret(apiKey);
  const ports = sandboxPorts(source);
  const syncLogger = logger.child({ component: 'syncs' });
  return [
    syncWorkerJob({
      definitions,
      redisUrl,
      prefix: `${env.EVENT_LOG_PREFIX}:syncs`,
      gatewayUrl: env.SYNC_GATEWAY_URL,
      apiKey,
      connect: (target) =>
        target.platform.sandbox.connection(`http://127.0.0.1:${ports[target.platform.name]}`),
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
