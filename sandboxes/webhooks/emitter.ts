import { Agent, request } from 'undici';
import type { Logger } from '../../lib/logger.js';
import type { EventSourceName } from '../../platforms/registry.js';
import type { DemoEvent, OutgoingWebhook, TrafficContext } from '../kit/traffic.js';
import { Random } from '../world/random.js';
import type { Customer, World } from '../world/world.js';
import type { SigningSecrets } from './secrets.js';
import {
  DEMO_EVENTS,
  kindOf,
  STAND_IN,
  TRAFFIC_KINDS,
  TRAFFIC_SOURCES,
  WEBHOOK_KINDS,
  type SourcedKind,
  type TrafficSource,
  type WebhookKind,
} from './traffic.js';

/**
 * Live traffic for the embedded demo: signed webhooks from the platforms and the company's site,
 * posted to the gateway at a steady rate. Each source writes its own (its descriptor's
 * `webhooks.demoTraffic`, read through traffic.ts); the emitter draws a kind among every source's
 * by weight, schedules, delivers and counts. A platform's webhook reports a change just applied to
 * the world, drawn among the transitions the current state allows, so the graph read afterwards
 * agrees with it. Deliveries behave like the platforms': a non-2xx or a connection failure is
 * retried a few times with backoff, then given up and counted; a gateway that is down never stops
 * or crashes the emitter.
 */

/** A webhook on its way: what its source wrote, with the source and the kind it was drawn as. */
export interface Delivery extends OutgoingWebhook {
  kind: WebhookKind;
  source: EventSourceName;
}

/** A platform event to apply to the world and report: `POST /__sandbox/webhooks`, parsed. */
export interface EventRequest {
  /** Its type, by the platform's own name (`orders/create`). */
  type: string;
  customer: Customer;
  /** Its fields beside the customer (`financialStatus`), checked by the event's schema. */
  fields?: Readonly<Record<string, unknown>>;
}

export interface Happened {
  type: string;
  customer: Customer;
  /** What changed in the sandbox, to show whoever asked. */
  applied: Record<string, unknown>;
  /** The webhooks that report it, in the order they are to be sent. */
  webhooks: Delivery[];
}

export interface WebhookEmitterOptions {
  world: World;
  /**
   * The gateway's origin (`http://localhost:4000`); webhooks go to `/webhooks/<platform>`. Without
   * one nothing is sent until `setTarget`.
   */
  target?: { gatewayOrigin: string };
  /** What each source signs with; the gateway must verify with the same. */
  secrets: SigningSecrets;
  /** Webhooks per minute once started, from 1 to 60,000. */
  perMinute: number;
  logger: Logger;
  /** Draws customers, kinds and values. @default a Random seeded from the clock */
  random?: Random;
  /** Which kinds to emit, picked by their weights. @default every kind in WEBHOOK_KINDS */
  kinds?: readonly WebhookKind[];
  /**
   * Waits before each retry of a failed delivery (±20% jitter); its length is the number of
   * retries. @default [1000, 5000, 30000] (the platforms retry for hours; a demo gives up sooner)
   */
  retryDelaysMs?: readonly number[];
  /** A delivery that takes longer fails, like Shopify's 5 s limit. @default 5000 */
  timeoutMs?: number;
  /**
   * Deliveries (retries included) in flight at once; a scheduled webhook that finds them all busy
   * is skipped and counted, so a gateway that is down does not pile up work. @default 32
   */
  maxInFlight?: number;
}

export interface DeliveryOutcome {
  kind: WebhookKind;
  source: EventSourceName;
  ok: boolean;
  attempts: number;
  /** The last answer's status; undefined when the last attempt got no answer. */
  status?: number;
}

export interface WebhookEmitterStats {
  running: boolean;
  perMinute: number;
  /** Delivered (a 2xx), after however many attempts. */
  sent: number;
  /** Given up after the last retry, when `stop()` came before a retry, or not buildable. */
  failed: number;
  /** Retry attempts made. */
  retried: number;
  /** Scheduled webhooks not sent because `maxInFlight` deliveries were busy. */
  skipped: number;
  inFlight: number;
  /** By source name, every source that sends demo traffic. */
  bySource: Record<string, { sent: number; failed: number }>;
}

/** One webhook sent for a requested event, as far as its first attempt went. */
export interface SentWebhook {
  webhook: Delivery;
  /** The first attempt got a 2xx. */
  ok: boolean;
  /** The first attempt's answer; undefined when none came. */
  status?: number;
  /** The first attempt failed and the emitter goes on retrying in the background. */
  retrying: boolean;
}

export interface CausedEvent {
  happened: Happened;
  sent: SentWebhook[];
}

/** No gateway to send to: `setTarget` was never called. */
export class NoTargetError extends Error {
  override readonly name = 'NoTargetError';
}

export interface WebhookEmitter {
  /** Starts the schedule (nothing happens before). Calling it while running does nothing. */
  start(): void;
  /**
   * Stops the schedule and abandons pending retries; a POST already on the wire is let finish (each
   * bounded by `timeoutMs`), so what the gateway received is what the counts say.
   */
  stop(): Promise<void>;
  /** Changes the rate; a running schedule continues at the new one. */
  setRate(perMinute: number): void;
  /** Where webhooks go from now on (the gateway's origin). */
  setTarget(gatewayOrigin: string): void;
  /**
   * Makes one event of a kind happen now, outside the schedule, and delivers its webhooks (retries
   * included); the outcome is the last webhook's (an order by a new buyer sends two).
   */
  emit(kind?: WebhookKind): Promise<DeliveryOutcome>;
  /**
   * Applies a chosen event to the world and sends its webhooks, one after the other; resolves once
   * each has had its first attempt (failed ones are retried in the background, as the platforms
   * do). Throws TransitionError (nothing changed) or NoTargetError (nothing changed, nothing sent).
   */
  cause(request: EventRequest): Promise<CausedEvent>;
  stats(): WebhookEmitterStats;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000];
/** A schedule this far behind (a blocked event loop, a suspended laptop) restarts instead of bursting. */
const MAX_LAG_MS = 1_000;

class Aborted extends Error {}

function checkRate(perMinute: number): number {
  if (!Number.isFinite(perMinute) || perMinute < 1 || perMinute > 60_000)
    throw new RangeError('perMinute must be from 1 to 60000');
  return perMinute;
}

/** The kind named, or a RangeError listing the kinds there are. */
function kindNamed(name: WebhookKind): SourcedKind {
  const found = TRAFFIC_KINDS.get(name);
  if (!found)
    throw new RangeError(`Unknown webhook kind "${name}": expected one of ${WEBHOOK_KINDS.join(', ')}`);
  return found;
}

export function createWebhookEmitter(options: WebhookEmitterOptions): WebhookEmitter {
  const random = options.random ?? new Random(Date.now());
  const kinds = options.kinds ?? WEBHOOK_KINDS;
  if (kinds.length === 0) throw new RangeError('kinds must name at least one webhook kind');
  const weights = kinds.map((name) => [name, kindNamed(name).kind.weight] as const);
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxInFlight = options.maxInFlight ?? 32;
  const trimmed = (target: string) => target.replace(/\/+$/, '');
  let origin = options.target ? trimmed(options.target.gatewayOrigin) : undefined;
  const log = options.logger;
  let perMinute = checkRate(options.perMinute);

  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let scheduleStart = 0;
  let scheduled = 0;
  let agent: Agent | undefined;
  /** One per delivery, not one shared: a signal with dozens of listeners trips Node's leak warning. */
  const deliveries = new Set<AbortController>();
  let failing = false;
  const inFlight = new Set<Promise<DeliveryOutcome>>();
  const counts = { sent: 0, failed: 0, retried: 0, skipped: 0 };
  const bySource: WebhookEmitterStats['bySource'] = Object.fromEntries(
    TRAFFIC_SOURCES.map((source) => [source.name, { sent: 0, failed: 0 }]),
  );

  function dispatcher(): Agent {
    agent ??= new Agent({
      connections: maxInFlight,
      keepAliveTimeout: 10_000,
      connect: { timeout: timeoutMs },
    });
    return agent;
  }

  /** What a source writes its traffic with: its secret, and its endpoint on the gateway. */
  function context(source: TrafficSource): TrafficContext {
    if (origin === undefined)
      throw new NoTargetError('The webhook emitter has no gateway to send to (no target set).');
    return {
      world: options.world,
      random,
      secret: options.secrets[source.name],
      endpoint: `${origin}/webhooks/${source.name}`,
    };
  }

  /** A source's webhooks, on their way as a kind. */
  const onTheWay = (source: TrafficSource, kind: WebhookKind, webhooks: readonly OutgoingWebhook[]) =>
    webhooks.map((webhook): Delivery => ({ ...webhook, kind, source: source.name }));

  function happen(source: TrafficSource, event: DemoEvent, customer: Customer, fields = {}): Happened {
    const happening = event.happen(context(source), customer, fields, Date.now());
    return {
      type: event.type,
      customer,
      applied: happening.applied,
      webhooks: onTheWay(source, kindOf(event), happening.webhooks),
    };
  }

  /** An occurrence of a kind: its change applied to the world first; undefined when none is allowed. */
  function occur({ source, kind }: SourcedKind): Delivery[] | undefined {
    if ('send' in kind) return onTheWay(source, kind.name, [kind.send(context(source))]);
    const drawn = kind.draw(context(source));
    return drawn && happen(source, kind.event, drawn.customer, drawn.fields).webhooks;
  }

  /**
   * The webhooks of one event of a kind. When the state allows no change of that kind (every
   * member cleaned), a message that changes nothing stands in (STAND_IN, a page view).
   */
  function build(kind: WebhookKind): Delivery[] {
    return occur(kindNamed(kind)) ?? (STAND_IN ? (occur(STAND_IN) ?? []) : []);
  }

  function wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Aborted());
      const onAbort = () => {
        clearTimeout(handle);
        reject(new Aborted());
      };
      const handle = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One POST; its status, or undefined when no answer came. Never aborted: `stop()` lets it finish. */
  async function attempt(webhook: Delivery, number: number): Promise<number | undefined> {
    const { headers, body } = webhook.attempt(number, new Date());
    try {
      const response = await request(webhook.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: dispatcher(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      return response.statusCode;
    } catch (error) {
      log.debug({ err: error, source: webhook.source, attempt: number }, 'webhook delivery got no answer');
      return undefined;
    }
  }

  /** Delivers with retries; `onFirstAttempt` hears how the first attempt went, retries or not. */
  async function deliver(
    webhook: Delivery,
    onFirstAttempt?: (first: Omit<SentWebhook, 'webhook'>) => void,
  ): Promise<DeliveryOutcome> {
    const controller = new AbortController();
    deliveries.add(controller);
    const { signal } = controller;
    let status: number | undefined;
    let attempts = 0;
    try {
      for (;;) {
        status = await attempt(webhook, attempts);
        attempts += 1;
        const ok = status !== undefined && status >= 200 && status < 300;
        if (attempts === 1)
          onFirstAttempt?.({
            ok,
            ...(status !== undefined ? { status } : {}),
            retrying: !ok && retryDelays.length > 0 && !signal.aborted,
          });
        if (ok) return settle(webhook, true, attempts, status);
        const delay = retryDelays[attempts - 1];
        if (delay === undefined || signal.aborted) return settle(webhook, false, attempts, status);
        await wait(delay * (0.8 + random.next() * 0.4), signal);
        counts.retried += 1;
      }
    } catch (error) {
      if (error instanceof Aborted) return settle(webhook, false, attempts, status);
      throw error;
    } finally {
      deliveries.delete(controller);
    }
  }

  function settle(
    webhook: Delivery,
    ok: boolean,
    attempts: number,
    status: number | undefined,
  ): DeliveryOutcome {
    const outcome: DeliveryOutcome = {
      kind: webhook.kind,
      source: webhook.source,
      ok,
      attempts,
      ...(status !== undefined ? { status } : {}),
    };
    const tally = (bySource[webhook.source] ??= { sent: 0, failed: 0 });
    if (ok) {
      counts.sent += 1;
      tally.sent += 1;
      if (failing) log.info({ source: webhook.source }, 'webhook deliveries to the gateway succeed again');
      failing = false;
    } else {
      counts.failed += 1;
      tally.failed += 1;
      // Once per outage, not once per webhook: a stopped gateway would flood the log otherwise.
      if (!failing)
        log.warn(
          { source: webhook.source, url: webhook.url.split('?')[0], status: status ?? null, attempts },
          'webhook delivery to the gateway failed; further failures are counted, not logged, until one succeeds',
        );
      failing = true;
    }
    return outcome;
  }

  /** One webhook's delivery, counted in flight until it settles (retries included). */
  function track(
    webhook: Delivery,
    onFirstAttempt?: (first: Omit<SentWebhook, 'webhook'>) => void,
  ): Promise<DeliveryOutcome> {
    const delivery = deliver(webhook, onFirstAttempt).finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
    return delivery;
  }

  /**
   * Sends an event's webhooks one after the other, the next once the previous one's first attempt
   * is done (as a platform's queue would; retries go on alongside). Resolves when the last one's
   * first attempt is done, with its whole delivery (wrapped: a bare promise would be waited for).
   */
  async function sendAll(
    webhooks: readonly Delivery[],
    onFirstAttempt?: (index: number, first: Omit<SentWebhook, 'webhook'>) => void,
  ): Promise<{ last: Promise<DeliveryOutcome> }> {
    let last: Promise<DeliveryOutcome> | undefined;
    for (const [index, webhook] of webhooks.entries()) {
      let firstDone = () => {};
      const first = new Promise<void>((resolve) => (firstDone = resolve));
      last = track(webhook, (result) => {
        onFirstAttempt?.(index, result);
        firstDone();
      });
      await Promise.race([first, last]);
    }
    if (!last) throw new RangeError('an event with no webhook to deliver');
    return { last };
  }

  function fire(): void {
    timer = undefined;
    if (!running) return;
    scheduled += 1;
    if (inFlight.size >= maxInFlight) counts.skipped += 1;
    else {
      // A timer callback that throws takes the whole process down: a webhook that cannot be built
      // (a malformed secret) is logged and counted, and the schedule goes on.
      try {
        sendAll(build(random.weighted(weights)))
          .then(({ last }) => last)
          .catch((error: unknown) => log.error({ err: error }, 'webhook emitter failed to deliver'));
      } catch (error) {
        counts.failed += 1;
        log.error({ err: error }, 'webhook emitter could not build a webhook');
      }
    }
    scheduleNext();
  }

  function scheduleNext(): void {
    const interval = 60_000 / perMinute;
    const now = Date.now();
    let due = scheduleStart + (scheduled + 1) * interval;
    if (now - due > MAX_LAG_MS) {
      scheduleStart = now;
      scheduled = 0;
      due = now + interval;
    }
    timer = setTimeout(fire, Math.max(0, due - now));
    // The servers keep the process alive; the emitter never should on its own.
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      if (origin === undefined)
        throw new NoTargetError('The webhook emitter has no gateway to send to (no target set).');
      running = true;
      scheduleStart = Date.now();
      scheduled = 0;
      scheduleNext();
      // Debug: the `npm start` banner already says the demo traffic runs, and at what rate.
      log.debug({ perMinute, gateway: origin }, 'webhook emitter started');
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const controller of deliveries) controller.abort();
      await Promise.allSettled([...inFlight]);
      const closing = agent;
      agent = undefined;
      await closing?.close();
      log.info({ sent: counts.sent, failed: counts.failed }, 'webhook emitter stopped');
    },
    setRate(next) {
      perMinute = checkRate(next);
      if (!running) return;
      if (timer) clearTimeout(timer);
      scheduleStart = Date.now();
      scheduled = 0;
      scheduleNext();
    },
    setTarget(gatewayOrigin) {
      origin = trimmed(gatewayOrigin);
    },
    async emit(kind) {
      const { last } = await sendAll(build(kind ?? random.weighted(weights)));
      return last;
    },
    async cause(request) {
      const found = DEMO_EVENTS.get(request.type);
      if (!found) throw new RangeError(`Unknown event type "${request.type}"`);
      // Both throw before anything changes: no target, or a transition the platform would not make.
      const happened = happen(found.source, found.event, request.customer, request.fields);
      const sent: SentWebhook[] = happened.webhooks.map((webhook) => ({
        webhook,
        ok: false,
        retrying: false,
      }));
      const { last } = await sendAll(happened.webhooks, (index, first) => {
        const webhook = happened.webhooks[index];
        if (webhook) sent[index] = { webhook, ...first };
      });
      last.catch((error: unknown) => log.error({ err: error }, 'webhook emitter failed to deliver'));
      return { happened, sent };
    },
    stats() {
      return {
        running,
        perMinute,
        ...counts,
        inFlight: inFlight.size,
        bySource: Object.fromEntries(
          Object.entries(bySource).map(([source, tally]) => [source, { ...tally }]),
        ),
      };
    },
  };
}
