import type { IncomingMessage, ServerResponse } from 'node:http';
import { startDeliveries, type Deliveries } from '../deliveries/index.js';
import type { DeliveriesConfigInput } from '../deliveries/config.js';
import type { PayloadBuilder } from '../deliveries/payload.js';
import type { DeliveryStore } from '../deliveries/store/types.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { customerContextReader, type GraphRead } from './customer-context.js';
import { EventHub } from './hub.js';
import { createWebhookIngest, type WebhookSecrets } from './ingest.js';
import { EventProcessor, type Invalidations } from './processor.js';
import type { RoutingRule } from './routing.js';

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
   * (the embedded one in the log's own file), who closes it after `stop`. Absent: none are sent.
   */
  deliveries?: { store: DeliveryStore; config: DeliveriesConfigInput };
}

export interface EventPipeline {
  /** `/webhooks/*`. */
  ingest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  processor: EventProcessor;
  /** Delivered events, for whoever streams them (the gateway's subscriptions). */
  hub: EventHub;
  /** Webhooks out, when configured: their service, dispatcher and gauges for `/metrics`. */
  deliveries: Deliveries | undefined;
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

  const hub = new EventHub(log, logger.child({ component: 'event-hub' }));
  await hub.start();
  const processor = new EventProcessor({
    log,
    rules: config.routingRules,
    customerContext: customerContextReader(config.routingRules, options.readGraph),
    invalidate: options.invalidate,
    logger: logger.child({ component: 'event-processor' }),
    ...config.processor,
  });
  processor.start();
  // Deliveries follow the log (after the processor, which delivers events into it); their notices
  // (attempts exhausted, endpoint disabled) are events like any other, appended and processed.
  const deliveries = config.deliveries
    ? await startDeliveries({
        store: config.deliveries.store,
        config: config.deliveries.config,
        follow: log,
        emit: async (events) => {
          await log.append(events);
          processor.wake();
        },
        ...(options.payload ? { payload: options.payload } : {}),
        logger: logger.child({ component: 'deliveries' }),
      })
    : undefined;
  const ingest = createWebhookIngest({
    log,
    secrets: config.webhooks,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.trustedProxies ? { trustedProxies: config.trustedProxies } : {}),
    onAppended: () => processor.wake(),
    logger: logger.child({ component: 'webhooks' }),
  });

  // Retention: delivered events older than the window, or beyond the count, are pruned hourly.
  const prune = () =>
    log
      .prune(config.retention)
      .then((pruned) => {
        if (pruned > 0) logger.info({ pruned }, 'event log pruned past retention');
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'pruning the event log failed; retrying next hour'),
      );
  void prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000);
  pruneTimer.unref();

  let stopped: Promise<void> | undefined;
  return {
    ingest,
    processor,
    hub,
    deliveries,
    stop() {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        hub.stop();
        await deliveries?.stop();
        await processor.stop();
      })();
      return stopped;
    },
  };
}
