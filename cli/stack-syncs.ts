import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { syncEvent } from '../syncs/events.js';
import type { PlatformName } from '../platforms/registry.js';
import { loadSyncFile } from '../syncs/definition.js';
import { SyncScheduler } from '../syncs/scheduler.js';
import { SyncService } from '../syncs/service.js';

/** The embedded stack's batch syncs: definitions from a file, state in SQLite, the demo sandboxes as destinations. */
export interface StackSyncOptions {
  /** SYNCS_FILE. */
  file: string;
  /** SYNC_MIN_INTERVAL_MS. @default 60000 */
  minIntervalMs?: number;
  /** `syncsStateFile(DATA_DIR)`, or `:memory:` for a test. */
  stateFile: string;
  /** The key the sources run with. */
  apiKey: string;
  /** Run the scheduled syncs when due. @default false (only on demand: CLI, `runSync`) */
  schedule?: boolean;
  /** How often the scheduler looks for due syncs. @default 15000 */
  tickMs?: number;
}

export interface StackSyncs {
  service: SyncService;
  /** Once the gateway listens: the sources' URL, and the scheduler when asked for. */
  start(gatewayUrl: string): void;
  stop(): Promise<void>;
}

export function stackSyncs(
  options: StackSyncOptions,
  origins: Readonly<Record<PlatformName, string>>,
  eventLog: EventLog,
  logger: Logger,
): StackSyncs {
  let gatewayUrl: string | undefined;
  const service = new SyncService({
    definitions: loadSyncFile(
      options.file,
      options.minIntervalMs !== undefined ? { minIntervalMs: options.minIntervalMs } : {},
    ),
    stateFile: options.stateFile,
    gatewayUrl: () => {
      if (!gatewayUrl) throw new Error('the gateway is not listening yet');
      return gatewayUrl;
    },
    apiKey: options.apiKey,
    connect: (target) => target.platform.sandbox.connection(origins[target.platform.name]),
    logger,
    // Into the event log, like any other event: subscriptions, outbound webhooks, alerts.
    onEvent: (event) => {
      eventLog
        .append([syncEvent(event, Date.now())])
        .catch((error: unknown) =>
          logger.warn(
            { error: error instanceof Error ? error.message : 'error', event: event.type },
            'a sync event was not logged',
          ),
        );
    },
  });
  const scheduler = new SyncScheduler(service, {
    logger,
    ...(options.tickMs ? { tickMs: options.tickMs } : {}),
  });
  return {
    service,
    start(url) {
      gatewayUrl = url;
      if (options.schedule) scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      service.close();
    },
  };
}
