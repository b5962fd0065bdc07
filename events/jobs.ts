import type { WorkerJob } from '../lib/jobs/job.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { customerContextReader, type GraphRead } from './customer-context.js';
import { EventProcessor, type Invalidations } from './processor.js';
import type { RoutingRule } from './routing.js';
import { ActionRunner, type ActionRunnerOptions } from './actions/runner.js';

/** What the event pipeline's background jobs need, wherever they run. */
export interface EventJobsOptions {
  log: EventLog;
  routingRules: readonly RoutingRule[];
  retention: { maxAgeMs: number; maxEvents: number };
  processor?: { concurrency?: number; maxAttempts?: number; retryBaseMs?: number; visibilityMs?: number };
  /** The name the processor claims under (`worker-<host>-<pid>` in a worker). @default a random one */
  processorId?: string;
  /** Reads the graph as the event processor: in place in the gateway, over HTTP from a worker. */
  readGraph: GraphRead;
  /** Tells the subgraphs which records changed (`subgraphInvalidation`). */
  invalidate(changes: Invalidations): Promise<void>;
  /**
   * The routing rules' actions: the outbox and an executor per connected platform (the caller
   * opens and closes both). @default none: rules' actions are not run here
   */
  actions?: Omit<ActionRunnerOptions, 'rules' | 'logger'>;
  logger: Logger;
}

/** How often delivered events past retention are pruned. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The event pipeline's long-running work as worker jobs: the processor (claims events from the
 * log's inbox, routes and delivers them) and retention pruning. Further jobs (webhook deliveries,
 * platform syncs) join this list, one line each, and run wherever these run. The processor is
 * returned as well: a gateway running the jobs itself wakes it when a webhook is appended.
 */
export function eventJobs(options: EventJobsOptions): {
  processor: EventProcessor;
  actions?: ActionRunner;
  jobs: WorkerJob[];
} {
  const { log, logger } = options;
  const actions = options.actions
    ? new ActionRunner({
        ...options.actions,
        rules: options.routingRules,
        logger: logger.child({ component: 'actions' }),
      })
    : undefined;
  const processor = new EventProcessor({
    log,
    rules: options.routingRules,
    customerContext: customerContextReader(options.routingRules, options.readGraph),
    invalidate: options.invalidate,
    ...(actions ? { actions } : {}),
    logger: logger.child({ component: 'event-processor' }),
    ...options.processor,
    ...(options.processorId ? { id: options.processorId } : {}),
  });
  return {
    processor,
    ...(actions ? { actions } : {}),
    // Actions first: they recover what a crash left under way before the processor adds more,
    // and stop last, once the processor has stopped accepting them.
    jobs: [
      ...(actions ? [actionsJob(actions)] : []),
      processorJob(processor, log),
      retentionJob(log, options.retention, logger),
    ],
  };
}

function actionsJob(actions: ActionRunner): WorkerJob {
  let running = false;
  return {
    name: 'event-actions',
    async start() {
      await actions.start();
      running = true;
    },
    async stop() {
      running = false;
      await actions.stop();
    },
    health: () => Promise.resolve(running ? { status: 'ok' } : { status: 'stopped' }),
  };
}

function processorJob(processor: EventProcessor, log: EventLog): WorkerJob {
  let running = false;
  return {
    name: 'event-processor',
    start() {
      processor.start();
      running = true;
    },
    async stop() {
      running = false;
      await processor.stop();
    },
    // The log is what processing depends on: its backlog is the figure an operator scales on.
    async health() {
      if (!running) return { status: 'stopped' };
      try {
        const stats = await log.stats();
        return { status: 'ok', detail: { pending: stats.pending, oldestPendingMs: stats.oldestPendingMs } };
      } catch {
        return {
          status: 'failing',
          detail: 'the event log does not answer; processing resumes when it does',
        };
      }
    },
  };
}

/**
 * Delivered events older than the window, or beyond the count, are pruned at start and hourly.
 * Idempotent, so several workers pruning the same shared log is harmless.
 */
function retentionJob(
  log: EventLog,
  retention: { maxAgeMs: number; maxEvents: number },
  logger: Logger,
): WorkerJob {
  let timer: NodeJS.Timeout | undefined;
  let lastFailed = false;
  const prune = () =>
    log
      .prune(retention)
      .then((pruned) => {
        lastFailed = false;
        if (pruned > 0) logger.info({ pruned }, 'event log pruned past retention');
      })
      .catch((error: unknown) => {
        lastFailed = true;
        logger.warn({ err: error }, 'pruning the event log failed; retrying next hour');
      });
  return {
    name: 'event-retention',
    start() {
      void prune();
      timer = setInterval(() => void prune(), PRUNE_EVERY_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
    },
    async health() {
      if (!timer) return { status: 'stopped' };
      // A failed prune is retried within the hour; the log keeps working meanwhile.
      return lastFailed
        ? { status: 'failing', detail: 'the last prune failed; retrying next hour' }
        : { status: 'ok' };
    },
  };
}
