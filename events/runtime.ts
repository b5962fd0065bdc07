import type { IncomingEvent } from '../lib/events/event.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deliveries } from '../deliveries/index.js';
import type { DeliveriesConfigInput } from '../deliveries/config.js';
import type { PayloadBuilder } from '../deliveries/payload.js';
import type { DeliveryStore } from '../deliveries/store/types.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { startJobs } from '../lib/jobs/runner.js';
import type { GraphRead } from './customer-context.js';
import { assertLogSharedByWorkers } from './config.js';
import { followDeliveryNotices } from './delivery-health.js';
import { EventHub } from './hub.js';
import { createWebhookIngest, type WebhookSecrets } from './ingest.js';
import { eventJobs } from './jobs.js';
import type { EventProcessor, Invalidations } from './processor.js';
import type { RoutingRule } from './routing.js';
import type { ActionRunner, ActionRunnerOptions } from './actions/runner.js';

/** The event pipeline's configuration, with its log already opened by the caller (who closes it). */
export interface EventsConfig {
  log: EventLog;
  webhooks: WebhookSecrets;
  publicUrl?: string;
  /** Proxies whose `X-Forwarded-Proto`/`-Host` give the URI HubSpot signed (`TRUSTED_PROXIES`). */
  trustedProxies?: readonly string[];
  routingRules: readonly RoutingRule[];
  retention: { maxAgeMs: number; maxEvents: number };
  processor?: { concurrency?: number; maxAttempts?: number; retryBaseMs?: number; visibilityMs?: number };
  /**
   * Webhooks out to subscribers' endpoints, following this log: the store opened by the caller
   * (the embedded one in the log's own file), who closes it after `stop`. They are a background job
   * (events/jobs.ts): sent from this process, or from `worker` processes with `backgroundJobs:
   * 'worker'`. Absent: none are sent from here.
   */
  deliveries?: { store: DeliveryStore; config: DeliveriesConfigInput };
  /**
   * The routing rules' actions: the outbox and an executor per connected platform (the caller opens
   * and closes both) and the runner's tuning. @default none: rules' actions are not run
   */
  actions?: Omit<ActionRunnerOptions, 'rules' | 'logger'>;
  /**
   * Where the background jobs (actions, processing, deliveries, retention; events/jobs.ts) run: `gateway`, in this
   * process; `worker`, in `worker` processes sharing the log, so this one only ingests webhooks
   * and streams delivered events. @default 'gateway'
   */
  backgroundJobs?: 'gateway' | 'worker';
}

export interface EventPipeline {
  /** `/webhooks/*`. */
  ingest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  processor: EventProcessor;
  /** Runs the rules' actions; absent when no outbox was configured. */
  actions?: ActionRunner;
  /** Delivered events, for whoever streams them (the gateway's subscriptions). */
  hub: EventHub;
  /** Webhooks out, when configured: their service, dispatcher and gauges for `/metrics`. */
  deliveries: Deliveries | undefined;
  /**
   * Events this process raises itself (alerts), into the log and processed as soon as stored, as
   * an ingested webhook's are.
   */
  emit(events: readonly IncomingEvent[]): Promise<void>;
  /** Stops processing and ends every reader of the hub; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The event pipeline, wired together: webhook ingest into the durable log, the processor
 * (invalidate, enrich, route, deliver) and the hub reading delivered events, with retention
 * pruning. It knows nothing of the gateway: the graph is read through `readGraph` and the
 * subgraphs' caches told through `invalidate`, so the same pipeline runs inside the gateway or in
 * a worker process.
 */
export async function startEventPipeline(options: {
  config: EventsConfig;
  /** Reads the graph as the event processor, for the routing rules' customer context. */
  readGraph: GraphRead;
  /** Tells the subgraphs which records changed (`subgraphInvalidation`). */
  invalidate(changes: Invalidations): Promise<void>;
  /** Builds each webhook message's body (the enrichment). @default basicPayload */
  payload?: PayloadBuilder;
  logger: Logger;
}): Promise<EventPipeline> {
  const { config, logger } = options;
  const log = config.log;
  if (config.backgroundJobs === 'worker') assertLogSharedByWorkers(log.kind, 'BACKGROUND_JOBS=worker');

  const hub = new EventHub(log, logger.child({ component: 'event-hub' }));
  await hub.start();
  const notices = followDeliveryNotices(hub, logger.child({ component: 'delivery-health' }));
  const { processor, actions, deliveries, jobs } = eventJobs({
    log,
    routingRules: config.routingRules,
    retention: config.retention,
    ...(config.processor ? { processor: config.processor } : {}),
    readGraph: options.readGraph,
    invalidate: options.invalidate,
    ...(config.actions ? { actions: config.actions } : {}),
    ...(config.deliveries
      ? {
          deliveries: {
            ...config.deliveries,
            ...(options.payload ? { payload: options.payload } : {}),
          },
        }
      : {}),
    logger,
  });
  // BACKGROUND_JOBS=worker: `worker` processes claim the work from the shared log instead.
  const running = config.backgroundJobs === 'worker' ? undefined : await startJobs(jobs, logger);
  const ingest = createWebhookIngest({
    log,
    secrets: config.webhooks,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.trustedProxies ? { trustedProxies: config.trustedProxies } : {}),
    onAppended: () => processor.wake(),
    logger: logger.child({ component: 'webhooks' }),
  });

  let stopped: Promise<void> | undefined;
  return {
    ingest,
    processor,
    ...(actions ? { actions } : {}),
    hub,
    deliveries: deliveries(),
    async emit(events) {
      await log.append(events);
      processor.wake();
    },
    stop() {
      stopped ??= (async () => {
        notices.stop();
        hub.stop();
        await running?.stop();
      })();
      return stopped;
    },
  };
}
