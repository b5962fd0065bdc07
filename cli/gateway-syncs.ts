import { ConfigError, loadEnv } from '../lib/config/env.js';
import { catalog } from '../platforms/catalog.js';
import { loadSyncFile, SyncDefinitionError } from '../syncs/definition.js';
import type { WorkerSyncs } from '../syncs/directory.js';
import { GATEWAY_SYNC_ENV } from './command-env.js';

/**
 * What a gateway shows in the graph when the workers run the syncs (`WORKER_SYNCS=on`): their
 * state in Redis, and `runSync` (dry runs too) queued for them; undefined when WORKER_SYNCS is off.
 */
export async function gatewayWorkerSyncs(source = process.env): Promise<WorkerSyncs | undefined> {
  const env = loadEnv(catalog, GATEWAY_SYNC_ENV, source);
  if (env.WORKER_SYNCS !== 'on') return undefined;
  if (!env.REDIS_URL)
    throw new ConfigError([
      "REDIS_URL: required with WORKER_SYNCS=on: the gateway reads the workers' syncs from that Redis",
    ]);
  const definitions = syncsFileOrConfigError(env.SYNCS_FILE, env.SYNC_MIN_INTERVAL_MS);
  // BullMQ and its Redis client load only here: a gateway without worker syncs never pays for them.
  const { WorkerSyncs } = await import('../syncs/directory.js');
  return WorkerSyncs.open({
    definitions,
    redisUrl: env.REDIS_URL,
    prefix: `${env.EVENT_LOG_PREFIX}:syncs`,
    dryRunTimeoutMs: env.SYNC_DRY_RUN_TIMEOUT_MS,
  });
}

/** SYNCS_FILE's syncs; a bad file stops the process as any bad variable does (exit 2, the sync and field named). */
export function syncsFileOrConfigError(file: string, minIntervalMs: number) {
  try {
    return loadSyncFile(file, { minIntervalMs });
  } catch (error) {
    if (error instanceof SyncDefinitionError) throw new ConfigError([`SYNCS_FILE: ${error.message}`]);
    throw error;
  }
}
