import type { EventJobsOptions } from '../events/jobs.js';
import type { EventLogSettings } from '../lib/events/log/open.js';
import type { Logger } from '../lib/logger.js';
import { connectActionExecutors, type PlatformName } from '../platforms/registry.js';
import { openActionOutboxFor } from './action-outbox.js';

/**
 * What a process running the routing rules' actions reads besides each platform's own variables
 * (`gateway` running the event jobs itself and `worker`; `start` reads the last two already).
 */
export const ACTIONS_ENV = ['ACTIONS_VISIBILITY_MS', 'UPSTREAM_TIMEOUT_MS', 'UPSTREAM_MAX_RETRIES'] as const;

/** The actions as the event jobs take them, and how to close what was opened for them. */
export interface OpenedActions {
  config: NonNullable<EventJobsOptions['actions']>;
  close(): Promise<void>;
}

/** The longest one call may take, retries inside the client included (the runner's default). */
const MAX_CALL_BUDGET_MS = 60_000;

/**
 * The routing rules' actions wherever the event jobs run (`start`, `gateway`, `worker`): the
 * outbox next to the event log (its SQLite file, or the Redis beside the Redis log) and an executor
 * per connected platform, each with its own client of the platform (its limits and retries). One
 * composition for every command, so the standalone gateway runs actions exactly as `start` does;
 * only where the connections come from differs (the sandboxes, or the platforms' variables).
 */
export async function openActions(options: {
  log: EventLogSettings;
  /** A connection per platform to run actions on; a platform left out gets no executor. */
  connections: Partial<Record<PlatformName, unknown>>;
  timeoutMs: number;
  maxRetries: number;
  /**
   * With the shared (Redis) outbox: how long a claimed action stays with this process. A call's
   * budget is kept below it, so a call ends before another process could take the action back.
   * @default the outbox's own
   */
  visibilityMs?: number;
  logger: Logger;
}): Promise<OpenedActions> {
  const outbox = await openActionOutboxFor(
    options.log,
    options.visibilityMs !== undefined ? { visibilityMs: options.visibilityMs } : {},
  );
  const executors = connectActionExecutors(options.connections, {
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    logger: options.logger,
  });
  return {
    config: {
      outbox,
      executors,
      ...(options.visibilityMs !== undefined
        ? { callBudgetMs: Math.min(MAX_CALL_BUDGET_MS, Math.floor(options.visibilityMs * 0.8)) }
        : {}),
    },
    async close() {
      for (const executor of Object.values(executors)) await executor.close();
      await outbox.close();
    },
  };
}
