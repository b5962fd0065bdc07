import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { DeliveriesConfigInput } from '../../deliveries/config.js';
import { startDeliveries, type Deliveries, type StartDeliveriesOptions } from '../../deliveries/index.js';
import type { Resolver } from '../../deliveries/ssrf/guard.js';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import type { DeliveredEvent, IncomingEvent } from '../../lib/events/event.js';
import { silentLogger } from '../helpers/context.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { redisStorage } from './redis-storage.js';

/**
 * Deliveries on a fresh SQLite file, a manual clock and local receivers: development mode
 * (http://) with 127.0.0.1 allow-listed unless the test says otherwise. Everything is stopped and
 * removed when the test finishes.
 */
export interface Harness {
  deliveries: Deliveries;
  store: DeliveryStore;
  clock: ManualClock;
  file: string;
  /** What `emit` received: the canonical events about deliveries. */
  notices: IncomingEvent[];
  /** A receiver, closed when the test finishes. */
  receiver(answer?: WebhookReceiver['answer']): Promise<WebhookReceiver>;
  /** Moves the clock on by `ms` and waits until the attempts that became due are settled. */
  tick(ms: number): Promise<void>;
  /** Another deliveries instance on the same file (a restart), after stopping this one. */
  restart(config?: DeliveriesConfigInput): Promise<Deliveries>;
}

export const LOCAL: DeliveriesConfigInput = { allowHttp: true, allow: ['127.0.0.1/32'] };

export async function harness(
  options: {
    config?: DeliveriesConfigInput;
    resolve?: Resolver;
    follow?: StartDeliveriesOptions['follow'];
    file?: string;
    /** Wraps the store the deliveries use (a spy that counts calls); the real store does the work. */
    wrapStore?: (store: DeliveryStore) => DeliveryStore;
    /** The Redis store at this URL (on a prefix of its own, dropped at the end) instead of SQLite. */
    redisUrl?: string;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
  const file = options.file ?? join(dir, 'events.db');
  const clock = new ManualClock();
  const notices: IncomingEvent[] = [];
  const stores: DeliveryStore[] = [];
  const running: Deliveries[] = [];
  const receivers: WebhookReceiver[] = [];
  const redis = options.redisUrl === undefined ? undefined : redisStorage(options.redisUrl);
  const start = async (config: DeliveriesConfigInput) => {
    const store = redis ? await redis.open() : openDeliveryStore({ kind: 'sqlite', file });
    stores.push(store);
    const deliveries = await startDeliveries({
      store: options.wrapStore ? options.wrapStore(store) : store,
      config,
      clock,
      emit: async (events) => void notices.push(...events),
      logger: silentLogger,
      ...(options.resolve ? { resolve: options.resolve } : {}),
      ...(options.follow ? { follow: options.follow } : {}),
    });
    running.push(deliveries);
    return { deliveries, store };
  };
  const first = await start({ ...LOCAL, ...options.config });
  onTestFinished(async () => {
    for (const deliveries of running) await deliveries.stop();
    for (const store of stores) await store.close();
    for (const receiver of receivers) await receiver.close();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const h: Harness = {
    ...first,
    clock,
    file,
    notices,
    async receiver(answer) {
      const receiver = await startReceiver(answer);
      receivers.push(receiver);
      return receiver;
    },
    async tick(ms) {
      clock.advance(ms);
      await h.deliveries.dispatcher.settled();
    },
    async restart(config) {
      await h.deliveries.stop();
      const next = await start({ ...LOCAL, ...(config ?? options.config) });
      h.deliveries = next.deliveries;
      h.store = next.store;
      return next.deliveries;
    },
  };
  return h;
}

let serial = 0;

/** A processed event, as the event log hands it over, processed now on `clock`. */
export function processedEvent(
  clock: { now(): number },
  overrides: Partial<DeliveredEvent> = {},
): DeliveredEvent {
  serial += 1;
  const at = new Date(clock.now()).toISOString();
  return {
    id: `event-${process.pid}-${serial}`,
    dedupeKey: `key-${serial}`,
    type: 'ORDER_PLACED',
    source: 'site',
    occurredAt: at,
    receivedAt: at,
    customer: { id: `customer-${serial}`, email: `buyer${serial}@example.com` },
    properties: { totalPrice: '120.00', currency: 'USD' },
    personal: { firstName: 'Ada' },
    cursor: `s1_${serial.toString(16).padStart(16, '0')}`,
    channels: ['all-orders'],
    processedAt: at,
    ...overrides,
  };
}

/** Answers from a list, one per request in order; the last one for every request after. */
export function answers(
  ...list: Exclude<ReturnType<WebhookReceiver['answer']>, 'hold'>[]
): WebhookReceiver['answer'] {
  return (_request, index) => list[Math.min(index, list.length - 1)] ?? { status: 200 };
}
