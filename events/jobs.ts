import { startDeliveries, type Deliveries } from '../deliveries/index.js';
import type { DeliveriesConfigInput } from '../deliveries/config.js';
import type { PayloadBuilder } from '../deliveries/payload.js';
import type { DeliveryStore } from '../deliveries/store/types.js';
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
  /**
   * Webhooks out to subscribers' endpoints, following the log: the store (the caller opens and
   * closes it: embedded in the log's file, or Redis beside the Redis log), the settings, and what
   * builds each message's body (the enrichment, read as the endpoint's owner: in place in the
   * gateway, over HTTP from a worker). @default none: no webhooks are sent from here
   */
  deliveries?: { store: DeliveryStore; config: DeliveriesConfigInput; payload?: PayloadBuilder };
  logger: Logger;
}

/** How often delivered events past retention are pruned. */
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The event pipeline's long-running work as worker jobs: the rules' actions, the processor (claims
 * events from the log's inbox, routes and delivers them), webhook deliveries and retention pruning.
 * Further jobs (platform syncs) join this list, one line each, and run wherever these run: in the
 * gateway (`BACKGROUND_JOBS=gateway`) or in `worker` processes. The processor is returned as well
 * (a gateway running the jobs itself wakes it when a webhook is appended), and the deliveries once
 * their job has started (their gauges for `/metrics`).
 */
export function eventJobs(options: EventJobsOptions): {
  processor: EventProcessor;
  actions?: ActionRunner;
  /** The running deliveries: undefined until their job starts, and without `deliveries`. */
  deliveries(): Deliveries | undefined;
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
  const deliveries = options.deliveries
    ? deliveriesJob(options.deliveries, log, () => processor.wake(), logger)
    : undefined;
  return {
    processor,
    ...(actions ? { actions } : {}),
    deliveries: () => deliveries?.running(),
    // Actions first: they recover what a crash left under way before the processor adds more,
    // and stop last, once the processor has stopped accepting them. Deliveries follow the log
    // after the processor (which delivers events into it) and stop before it.
    jobs: [
      ...(actions ? [actionsJob(actions)] : []),
      processorJob(processor, log),
      ...(deliveries ? [deliveries.job] : []),
      retentionJob(log, options.retention, logger),
    ],
  };
}

/**
 * Webhooks out as a job: the dispatcher, the relay of notices and the follower of the log. Their
 * notices (attempts exhausted, endpoint disabled) are events like any other: appended to the log
 * and processed. Several workers share a Redis store through its claims and leases.
 */
function deliveriesJob(
  options: NonNullable<EventJobsOptions['deliveries']>,
  log: EventLog,
  wakeProcessor: () => void,
  logger: Logger,
): { job: WorkerJob; running(): Deliveries | undefined } {
  let deliveries: Deliveries | undefined;
  const job: WorkerJob = {
    name: 'webhook-deliveries',
    async start() {
      deliveries = await startDeliveries({
        store: options.store,
        config: options.config,
        follow: log,
        emit: async (events) => {
          await log.append(events);
          wakeProcessor();
        },
        ...(options.payload ? { payload: options.payload } : {}),
        logger: logger.child({ component: 'deliveries' }),
      });
    },
    async stop() {
      const running = deliveries;
      deliveries = undefined;
      await running?.stop();
    },
    // The outbox is what deliveries depend on: its depth is the figure an operator watches.
    async health() {
      if (!deliveries) return { status: 'stopped' };
      try {
        const stats = await options.store.stats();
        return { status: 'ok', detail: { pending: stats.pending, claimed: stats.claimed } };
      } catch {
        return {
          status: 'failing',
          detail: 'the webhook store does not answer; deliveries resume when it does',
        };
      }
    },
  };
  return { job, running: () => deliveries };
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
