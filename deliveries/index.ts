import type { DeliveredEvent } from '../lib/events/event.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import type { Gauge } from '../lib/metrics.js';
import { systemClock, type Clock } from './clock.js';
import { deliveriesConfigSchema, type DeliveriesConfig, type DeliveriesConfigInput } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { EventLogFollower } from './follower.js';
import { outboxGauges } from './metrics.js';
import { NoticeRelay } from './notice-relay.js';
import type { NoticeSink } from './notices.js';
import type { PayloadBuilder } from './payload.js';
import { secretSealer } from './secrets.js';
import { DeliveryService } from './service.js';
import { SsrfGuard, type Resolver } from './ssrf/guard.js';
import type { DeliveryStore } from './store/types.js';

export interface StartDeliveriesOptions {
  /** Opened by the caller (`openDeliveryStore`), who closes it after `stop()`. */
  store: DeliveryStore;
  /** Validated here; `{}` is the documented default. */
  config?: DeliveriesConfigInput;
  /**
   * Where the canonical events about deliveries go (`WEBHOOK_ATTEMPTS_EXHAUSTED`,
   * `WEBHOOK_ENDPOINT_DISABLED`): the event log's `append`, then a wake of the processor.
   */
  emit: NoticeSink;
  /**
   * The event log to follow (crash-safe hand-over, see EventLogFollower). Without it, events
   * arrive only through `enqueueForEvent`.
   */
  follow?: Pick<EventLog, 'read' | 'latestCursor' | 'watch'>;
  /** @default basicPayload */
  payload?: PayloadBuilder;
  /** @default systemClock */
  clock?: Clock;
  /** DNS for the SSRF guard. @default the system resolver */
  resolve?: Resolver;
  logger: Logger;
  /**
   * With a store shared between workers (Redis): how often the dispatcher re-reads endpoints and
   * due times, in case a change notice from another worker was lost.
   * @default 5000
   */
  resyncMs?: number;
}

/** The running deliveries: what the event pipeline, the management API and `/metrics` use. */
export interface Deliveries {
  readonly config: DeliveriesConfig;
  /** Endpoints, secrets, replay and recovery, messages and attempts: for the management API. */
  readonly service: DeliveryService;
  readonly dispatcher: Dispatcher;
  /** Present when `follow` was given. */
  readonly follower: EventLogFollower | undefined;
  /**
   * The event pipeline's entry point: a processed event to every endpoint that wants it.
   * Idempotent, so calling it for an event the follower also reads adds nothing.
   */
  enqueueForEvent(event: DeliveredEvent): Promise<number>;
  /** The outbox's queue depth and attempts in flight, for `/metrics`. */
  gauges(): Promise<Gauge[]>;
  /** Stops following, sending and emitting; safe to call twice. Does not close the store. */
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/**
 * Starts webhook deliveries to subscribers' endpoints over an opened store: the dispatcher (after
 * releasing the claims a previous process left, embedded), the relay of notices, the follower of
 * the event log when given, and hourly pruning of settled messages past retention.
 */
export async function startDeliveries(options: StartDeliveriesOptions): Promise<Deliveries> {
  const config = deliveriesConfigSchema.parse(options.config ?? {});
  const clock = options.clock ?? systemClock;
  const { store, logger } = options;
  const sealer = secretSealer(config.secretSealingKey);
  // A warning where it matters; in development (http:// allowed: the demo, a laptop) only at debug,
  // so `npm start` stays quiet about its throwaway secrets.
  if (!sealer.sealed)
    logger[config.allowHttp ? 'debug' : 'warn'](
      'webhook endpoint secrets are stored unencrypted: set a sealing key to encrypt them at rest',
    );
  const guard = new SsrfGuard({
    allowHttp: config.allowHttp,
    allow: config.allow,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const relay = new NoticeRelay({
    store,
    sink: options.emit,
    logger: logger.child({ component: 'notices' }),
  });
  const dispatcher = new Dispatcher({
    store,
    config,
    guard,
    sealer,
    clock,
    logger: logger.child({ component: 'webhook-dispatcher' }),
    onNotice: () => relay.poke(),
  });
  const service = new DeliveryService({
    store,
    config,
    guard,
    sealer,
    clock,
    scheduler: dispatcher,
    ...(options.payload ? { payload: options.payload } : {}),
    logger: logger.child({ component: 'webhook-endpoints' }),
  });

  // The embedded store belongs to this process: what a previous one had in flight when it died
  // was never confirmed by a 2xx, so it is due again now (its claims were held in memory; an older
  // build wrote them, and those are released here). A shared store's claims may belong to live
  // workers: they come back when their lease runs out.
  if (store.kind === 'sqlite') {
    const released = await store.releaseAllClaims(clock.now());
    if (released > 0) logger.info({ released }, 'webhook messages in flight at the last stop are due again');
  }
  await dispatcher.start();
  relay.poke();

  // Another worker sharing the store changed an endpoint or enqueued messages: this one's service
  // and dispatcher hear of it (the notices are best effort, so they also re-read now and then).
  const resync = () =>
    dispatcher.resync().then(
      () => service.endpointsChangedElsewhere(),
      (error: unknown) => logger.warn({ err: error }, 're-reading the shared webhook store failed; retrying'),
    );
  const unwatch = store.watch?.((change) => {
    if (change.kind === 'endpoint') {
      service.endpointsChangedElsewhere();
      dispatcher
        .endpointChanged(change.endpointId)
        .catch((error: unknown) =>
          logger.warn(
            { err: error },
            'reading an endpoint changed by another worker failed; re-reading soon',
          ),
        );
    } else if (change.endpointIds.length > 0) dispatcher.due(change.endpointIds);
    else void resync();
  });
  const resyncTimer = unwatch ? setInterval(() => void resync(), options.resyncMs ?? 5_000) : undefined;
  resyncTimer?.unref();

  const follower = options.follow
    ? new EventLogFollower({
        log: options.follow,
        cursor: () => store.followerCursor(),
        enqueue: (events, cursor) => service.enqueueForEvents(events, cursor),
        logger: logger.child({ component: 'webhook-follower' }),
      })
    : undefined;
  await follower?.start();

  const prune = () =>
    store
      .prune(clock.now() - config.retentionMs)
      .then((pruned) => {
        if (pruned > 0) logger.info({ pruned }, 'webhook messages pruned past retention');
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'pruning webhook messages failed; retrying next hour'),
      );
  const pruneTimer = setInterval(() => void prune(), HOUR_MS);
  pruneTimer.unref();

  // Changes made by another process's DeliveryService (the management API) reach this dispatcher
  // through the store's change version: one cheap read per tick, a reload only when it moved.
  let seenVersion = await store.changeVersion();
  let checking = false;
  const checkChanges = async () => {
    if (checking) return;
    checking = true;
    try {
      const version = await store.changeVersion();
      if (version !== seenVersion) {
        seenVersion = version;
        await dispatcher.resync();
      }
    } catch (error) {
      logger.warn({ err: error }, 'reading webhook endpoint changes failed; retrying');
    } finally {
      checking = false;
    }
  };
  const changeTimer = setInterval(() => void checkChanges(), config.changePollMs);
  changeTimer.unref();

  let stopped: Promise<void> | undefined;
  return {
    config,
    service,
    dispatcher,
    follower,
    enqueueForEvent: (event) => service.enqueueForEvent(event),
    gauges: async () => outboxGauges(await store.stats()),
    stop() {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        clearInterval(changeTimer);
        clearInterval(resyncTimer);
        unwatch?.();
        follower?.stop();
        relay.stop();
        await dispatcher.stop();
      })();
      return stopped;
    },
  };
}

/**
 * A DeliveryService for managing endpoints only (the management API in a process that does not
 * send): no dispatcher here; every change it makes bumps the store's change version, which the
 * dispatchers (`startDeliveries`, wherever they run) poll and reload on.
 */
export function deliveryManagement(options: {
  store: DeliveryStore;
  config?: DeliveriesConfigInput;
  payload?: PayloadBuilder;
  clock?: Clock;
  resolve?: Resolver;
  logger: Logger;
}): DeliveryService {
  const config = deliveriesConfigSchema.parse(options.config ?? {});
  return new DeliveryService({
    store: options.store,
    config,
    guard: new SsrfGuard({
      allowHttp: config.allowHttp,
      allow: config.allow,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    }),
    sealer: secretSealer(config.secretSealingKey),
    clock: options.clock ?? systemClock,
    scheduler: { endpointChanged: async () => undefined, due: () => undefined },
    ...(options.payload ? { payload: options.payload } : {}),
    logger: options.logger.child({ component: 'webhook-endpoints' }),
  });
}

export { DeliveryService } from './service.js';
export type { Endpoint } from './endpoint.js';
export type { DeliveriesConfigInput } from './config.js';
export type { PayloadBuilder } from './payload.js';
export { openDeliveryStore, type DeliveryStoreSettings } from './store/open.js';
export type { DeliveryStore } from './store/types.js';
export { DeliveryInputError } from './errors.js';
