import { hostname } from 'node:os';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import { GATEWAY_AUDIENCE, SYSTEM_CALLERS } from '../../lib/auth/system-callers.js';
import { as } from '../helpers/clients.js';
import { exportedMetricNames, readmeMetricsOf, readmeProcessFigures } from '../helpers/readme-monitoring.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startTestStack } from '../helpers/stack.js';
import { subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';
import {
  HEALTHY_WORKER,
  startWorkerProcess,
  stopWorkers,
  workerCounter,
  type WorkerProcess,
} from '../helpers/worker.js';

type OrderEvent = { events: { properties: { orderId: string } } };
const ORDERS = 'subscription { events(types: [ORDER_PLACED]) { properties } }';
const METRICS_TOKEN = 'worker-test-metrics-token';

/** `events_processed_total` of a worker, from its own /metrics (0 before its first event). */
const processedBy = (worker: WorkerProcess) => workerCounter(worker, 'events_processed_total', METRICS_TOKEN);

/**
 * The distributed shape: a gateway that only takes webhooks into the Redis log and streams what is
 * delivered (BACKGROUND_JOBS=worker), and two `worker` processes sharing the processing. One is
 * SIGKILLed in the middle of a burst: the events it had claimed go to the other once their claim
 * expires, and the subscriber gets every order exactly once.
 */
describe.runIf(REDIS_URL)(redisSuite('worker processes sharing the Redis event log'), () => {
  let stack: Stack;
  const workers: WorkerProcess[] = [];
  let subscriber: Subscriber<OrderEvent> | undefined;
  let redis: ReturnType<typeof createClient>;
  const prefix = `test-worker-${process.pid}-${Date.now()}`;

  const startWorker = () =>
    startWorkerProcess(stack, prefix, {
      // Few at a time and a short claim: the killed worker holds claims, and they come back quickly.
      EVENT_PROCESSOR_CONCURRENCY: '2',
      EVENT_PROCESSOR_VISIBILITY_MS: '2000',
      METRICS_TOKEN,
    });

  /** Claims (pending entries) each consumer of the log's `processors` group holds, from XINFO CONSUMERS. */
  async function claimsByConsumer(): Promise<Map<string, number>> {
    const reply = (await redis.sendCommand([
      'XINFO',
      'CONSUMERS',
      `{${prefix}}:inbox`,
      'processors',
    ])) as unknown[][];
    const claims = new Map<string, number>();
    for (const fields of reply) {
      const entry = new Map<string, unknown>();
      for (let k = 0; k < fields.length; k += 2) entry.set(String(fields[k]), fields[k + 1]);
      claims.set(String(entry.get('name')), Number(entry.get('pending')));
    }
    return claims;
  }
  /** The name a worker claims under (cli/commands/worker.ts). */
  const consumerOf = (worker: WorkerProcess) => `worker-${hostname()}-${worker.child.pid}`;

  beforeAll(async () => {
    redis = createClient({ url: REDIS_URL ?? '' });
    await redis.connect();
    stack = await startTestStack({
      // Each routing read costs platform calls: processing is slow enough to be cut off mid-burst.
      sandboxLatencyMs: 15,
      events: { log: { kind: 'redis', url: REDIS_URL ?? '', prefix }, backgroundJobs: 'worker' },
    });
  }, 60_000);
  afterAll(async () => {
    await subscriber?.close();
    await stopWorkers(workers);
    await stack?.close();
    await redis?.quit();
  });

  it('should leave processing to the workers, and lose no event when one is killed mid-burst', async () => {
    subscriber = subscribeWs<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS);
    await subscriber.ready;
    const emails = stack.world.customers.map((c) => c.person.email);
    const orders = Array.from({ length: 60 }, (_, i) =>
      shopifyOrder({ email: emails[i % emails.length]!, totalPrice: `${100 + i}.00` }),
    );

    // No worker yet: the gateway stores the webhook and leaves it pending.
    expect((await postWebhook(stack.origins.gateway, orders[0]!)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await stack.eventLog.stats()).toMatchObject({ pending: 1, delivered: 0 });

    workers.push(...(await Promise.all([startWorker(), startWorker()])));
    const [doomed, survivor] = workers as [WorkerProcess, WorkerProcess];

    // The burst, ten at a time; the first worker to have processed something is killed half-way.
    let killed: WorkerProcess | undefined;
    let heldAtDeath = 0;
    for (let i = 1; i < orders.length; i += 10) {
      const statuses = await Promise.all(
        orders
          .slice(i, i + 10)
          .map((order) => postWebhook(stack.origins.gateway, order).then((r) => r.status)),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
      if (i >= 21 && !killed) {
        // Killed while it holds claims: a worker that processed some and has more in hand.
        const holding = await eventually(
          async () => {
            const claims = await claimsByConsumer();
            for (const worker of workers)
              if ((claims.get(consumerOf(worker)) ?? 0) >= 3 && (await processedBy(worker)) > 0)
                return worker;
            return undefined;
          },
          (worker) => worker !== undefined,
        );
        if (!holding) throw new Error('no worker held claims in the middle of the burst');
        killed = holding;
        killed.child.kill('SIGKILL');
        await killed.exited;
        heldAtDeath = (await claimsByConsumer()).get(consumerOf(killed)) ?? 0;
      }
    }
    expect(killed?.child.signalCode).toBe('SIGKILL');
    expect(heldAtDeath).toBeGreaterThan(0);
    const alive = killed === doomed ? survivor : doomed;

    await subscriber.received.atLeast(orders.length, 45_000);
    // A little longer, so a second copy of any event would have arrived.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const got = subscriber.received.results.map((r) => String(r.data!.events.properties.orderId)).sort();
    expect(got).toEqual(orders.map((o) => String(o.orderId)).sort());
    expect(await stack.eventLog.stats()).toMatchObject({
      pending: 0,
      delivered: orders.length,
      deadLetters: 0,
    });
    // What the dead worker held was taken over by the other one.
    expect((await claimsByConsumer()).get(consumerOf(killed!)) ?? 0).toBe(0);
    // The one left alive finished the work, exports what the README's Monitoring table lists for a
    // worker, and still reports healthy.
    expect(await processedBy(alive)).toBeGreaterThan(0);
    const scrape = await (
      await fetch(`${alive.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    const exported = exportedMetricNames(scrape);
    expect(
      [...readmeMetricsOf('worker'), ...readmeProcessFigures()].filter((name) => !exported.has(name)),
    ).toEqual([]);
    expect(scrape).toMatch(/^event_log_delivered 60$/m);
    const health = await fetch(`${alive.origin}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual(HEALTHY_WORKER);
  }, 120_000);

  it("should read as the event processor with the gateway's scopes, whatever the token claims, once", async () => {
    const signer = new GatewayTokenSigner(stack.gatewayTokenKey);
    const claimsEverything = {
      clientId: SYSTEM_CALLERS.eventProcessor,
      scopes: ['ads:read', 'campaigns:read'],
    };
    const post = (token: string, query: string) =>
      fetch(`${stack.origins.gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
    const email = stack.world.customers[0]!.person.email;
    const token = await signer.tokenFor(GATEWAY_AUDIENCE, claimsEverything);
    const customer = await post(token, `{ customer(email: "${email}") { email } }`);
    expect(await customer.json()).toEqual({ data: { customer: { email } } });
    // The same token again: refused, whatever it asks.
    expect((await post(token, '{ __typename }')).status).toBe(401);
    const campaigns = await post(
      await signer.tokenFor(GATEWAY_AUDIENCE, claimsEverything),
      '{ campaignPerformance(since: "2026-11-01", until: "2026-11-02") { key } }',
    );
    const body = (await campaigns.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
  });
});
