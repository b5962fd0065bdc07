import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { openDeliveryStore, type DeliveryStore } from '../../deliveries/index.js';
import { openRedisActionOutbox } from '../../events/actions/outbox-redis.js';
import { remoteGraphReadAs } from '../../events/remote-graph.js';
import { GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import type { ActionOutbox } from '../../events/actions/outbox.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import type { PixelSnapshot } from '../../platforms/meta/sandbox/pixels.js';
import { as } from '../helpers/clients.js';
import { eventually } from '../helpers/gateway-process.js';
import { dropPrefix } from '../helpers/redis-prefix.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';
import {
  metaSandboxEnv,
  startWorkerProcess,
  HEALTHY_WORKER,
  stopWorkers,
  workerCounter,
  type WorkerProcess,
} from '../helpers/worker.js';

const { pixelId } = META_DEMO.assets;
const METRICS_TOKEN = 'worker-deliveries-metrics-token';

/**
 * A subscriber's endpoint that can hold every request open (so both workers have attempts in
 * flight when one is killed), then answers: 503 to the first attempt of every fifth message (a
 * failure the schedule retries), 200 otherwise. It records, per `webhook-id`, how often it answered
 * 2xx, and how many requests were cut off by their sender before any answer (the killed worker's).
 */
interface Subscriber {
  url: string;
  /** Requests waiting for an answer now. */
  held(): number;
  /** Answers what is held, and everything from now on. */
  release(): void;
  /** webhook-id -> 2xx answers sent. */
  ok: Map<string, number>;
  /** webhook-id -> non-2xx answers sent. */
  refused: Map<string, number>;
  /** Request bodies by webhook-id (the last one), for the signature and the enrichment. */
  bodies: Map<string, { body: string; headers: Record<string, string> }>;
  cutOff(): number;
  close(): Promise<void>;
}

async function startSubscriber(): Promise<Subscriber> {
  const held = new Set<() => void>();
  const ok = new Map<string, number>();
  const refused = new Map<string, number>();
  const bodies = new Map<string, { body: string; headers: Record<string, string> }>();
  const seen: string[] = [];
  let holding = true;
  let cutOff = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (!seen.includes(id)) seen.push(id);
      bodies.set(id, {
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers as Record<string, string>,
      });
      const answer = (response: ServerResponse) => {
        if (response.destroyed || response.writableEnded) return;
        // The first attempt of every fifth message fails: its retry must be what marks it delivered.
        const failFirst = seen.indexOf(id) % 5 === 0 && !refused.has(id);
        const map = failFirst ? refused : ok;
        map.set(id, (map.get(id) ?? 0) + 1);
        response.writeHead(failFirst ? 503 : 200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (!holding) return answer(res);
      const release = () => {
        held.delete(release);
        answer(res);
      };
      held.add(release);
      // The sender went away while waiting (SIGKILL): no answer was sent, so it must be retried.
      res.on('close', () => {
        if (held.delete(release)) cutOff += 1;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    held: () => held.size,
    release() {
      holding = false;
      for (const release of [...held]) release();
    },
    ok,
    refused,
    bodies,
    cutOff: () => cutOff,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One worker's own way to the Meta sandbox: a pass-through proxy that counts the Conversions API
 * calls under way, so the test knows which worker has an action call in flight when it kills one.
 * A caller that goes away takes its upstream request with it, as a dropped connection would.
 */
async function startMetaProxy(
  target: string,
): Promise<{ origin: string; inFlight(): number; close(): Promise<void> }> {
  let inFlight = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const tracked = req.method === 'POST' && url.pathname.endsWith('/events');
    if (tracked) inFlight += 1;
    const upstream = httpRequest(
      url,
      { method: req.method, headers: { ...req.headers, host: url.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (tracked) inFlight -= 1;
      upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * BACKGROUND_JOBS=worker with everything out: the gateway takes webhooks and serves the management
 * API; two `worker` processes sharing Redis (event log, delivery store, action outbox) process the
 * events, deliver signed, enriched webhooks to a real local endpoint and run the demo rule's Meta
 * Purchase action against the sandbox. One worker is SIGKILLed while both hold deliveries in flight.
 */
describe.runIf(REDIS_URL)(redisSuite('webhooks and actions from worker processes'), () => {
  let stack: Stack;
  let subscriber: Subscriber;
  let store: DeliveryStore;
  let outbox: ActionOutbox;
  const workers: WorkerProcess[] = [];
  const proxies: Awaited<ReturnType<typeof startMetaProxy>>[] = [];
  const prefix = `test-worker-out-${process.pid}-${Date.now()}`;

  const startWorker = (metaOrigin: string) =>
    startWorkerProcess(stack, prefix, {
      // Short claims everywhere: what the killed worker held comes back within seconds.
      EVENT_PROCESSOR_CONCURRENCY: '4',
      EVENT_PROCESSOR_VISIBILITY_MS: '2000',
      WEBHOOK_CLAIM_LEASE_MS: '2000',
      WEBHOOK_RETRY_SCHEDULE: '0,200ms,500ms,1s,2s,5s',
      ACTIONS_VISIBILITY_MS: '4000',
      // The Meta sandbox as the platform: the worker runs the demo rule's Purchase action on it.
      ...metaSandboxEnv(metaOrigin),
      METRICS_TOKEN,
    });

  beforeAll(async () => {
    stack = await startTestStack({
      events: { log: { kind: 'redis', url: REDIS_URL ?? '', prefix }, backgroundJobs: 'worker' },
    });
    subscriber = await startSubscriber();
    store = await openDeliveryStore({ kind: 'redis', url: REDIS_URL ?? '', prefix: `${prefix}:deliveries` });
    outbox = await openRedisActionOutbox({ url: REDIS_URL ?? '', prefix: `${prefix}:actions` });
  }, 60_000);
  afterAll(async () => {
    await stopWorkers(workers);
    await subscriber?.close();
    for (const proxy of proxies) await proxy.close();
    await store?.close();
    await outbox?.close();
    await stack?.close();
    // The run's event log, outbox and action keys.
    for (const keys of [prefix, `${prefix}:deliveries`, `${prefix}:actions`])
      await dropPrefix(REDIS_URL ?? '', keys);
  });

  it('should deliver every order at least once, never mark one delivered without a 2xx, and run each action once at Meta, across a SIGKILL', async () => {
    const created = await graphql<{
      createWebhookEndpoint: { secret: string; endpoint: { id: string; ownerClientId: string } };
    }>(
      stack.gatewayUrl,
      'mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [ORDER_PLACED], selection: "customer { email }" }) { secret endpoint { id ownerClientId } } }',
      { url: subscriber.url },
      as('admin'),
    );
    expect(created.body.errors).toBeUndefined();
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    const pixel = async (): Promise<PixelSnapshot> =>
      (
        await fetch(`${stack.origins.meta}/__sandbox/meta/pixels/${pixelId}/events`)
      ).json() as Promise<PixelSnapshot>;
    const before = await pixel();

    // Each Conversions API call takes a while, so the kill finds one under way.
    stack.sandboxes.meta.faults.set({ latencyMs: 1_500, endpoints: ['POST /{version}/{pixelId}/events'] });
    proxies.push(
      ...(await Promise.all([startMetaProxy(stack.origins.meta), startMetaProxy(stack.origins.meta)])),
    );
    workers.push(...(await Promise.all(proxies.map((proxy) => startWorker(proxy.origin)))));
    const emails = stack.world.customers.map((c) => c.person.email);
    const orders = Array.from({ length: 60 }, (_, i) =>
      shopifyOrder({ email: emails[i % emails.length]!, totalPrice: `${200 + i}.00` }),
    );
    for (let i = 0; i < orders.length; i += 10) {
      const statuses = await Promise.all(
        orders
          .slice(i, i + 10)
          .map((order) => postWebhook(stack.origins.gateway, order).then((r) => r.status)),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
    }

    // Killed mid-burst, with work of both kinds in hand: each worker has at most 16 attempts in
    // flight to one endpoint, so more than 16 held means both have some; and the one killed has a
    // Conversions API call under way.
    const victim = await eventually(
      () => Promise.resolve(subscriber.held() > 16 ? proxies.findIndex((proxy) => proxy.inFlight() > 0) : -1),
      (index) => index >= 0,
      300,
    );
    expect(victim).toBeGreaterThanOrEqual(0);
    const killed = workers[victim]!;
    const survivor = workers[1 - victim]!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    // Its connections close with it: what it had in flight is cut off, never answered.
    const cutOff = await eventually(
      () => Promise.resolve(subscriber.cutOff()),
      (count) => count > 0,
    );
    expect(cutOff).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscriber.release();

    // Everything reaches the endpoint, and the outbox says each is delivered.
    const all = await eventually(
      () => store.messages({ endpointId: endpoint.id, limit: 1_000 }),
      (messages) => messages.length === orders.length && messages.every((m) => m.status === 'succeeded'),
      400,
    );
    expect(all.map((m) => m.status)).toEqual(Array(orders.length).fill('succeeded'));
    // What the killed worker had in flight was delivered by the other.
    expect(killed.child.signalCode).toBe('SIGKILL');
    expect(await workerCounter(survivor, 'webhook_delivery_attempts_total', METRICS_TOKEN)).toBeGreaterThan(
      0,
    );
    // None is marked delivered without a 2xx: each succeeded message got one from the endpoint,
    // and its last recorded attempt is that 2xx.
    for (const message of all) {
      expect(subscriber.ok.get(message.id) ?? 0).toBeGreaterThan(0);
      const [last] = await store.attempts({ messageId: message.id, limit: 1 });
      expect(last?.statusCode).toBe(200);
    }
    // The failed first attempts (503) were retried, not counted as deliveries.
    expect(subscriber.refused.size).toBeGreaterThan(0);
    for (const id of subscriber.refused.keys()) expect(subscriber.ok.get(id) ?? 0).toBeGreaterThan(0);

    // Signed as Standard Webhooks, and enriched by the worker with the owner's read of the graph.
    const sample = all[0]!;
    const sent = subscriber.bodies.get(sample.id)!;
    const payload = new Webhook(secret).verify(sent.body, sent.headers) as {
      data: {
        properties: { orderId: number };
        enriched: { customer: { email: string } | null };
        enrichmentErrors?: unknown;
      };
    };
    const index = orders.findIndex((o) => o.orderId === Number(payload.data.properties.orderId));
    expect(index).toBeGreaterThanOrEqual(0);
    expect(payload.data.enrichmentErrors).toBeUndefined();
    expect(payload.data.enriched).toEqual({ customer: { email: emails[index % emails.length] } });

    // Actions: one Purchase per order kept at Meta, whoever sent it and however often.
    const actions = await eventually(
      () => outbox.list({ limit: 1_000 }),
      (list) => list.length === orders.length && list.every((a) => a.status === 'done'),
      300,
    );
    expect(actions.map((a) => a.status)).toEqual(Array(orders.length).fill('done'));
    const after = await pixel();
    expect(after.kept - before.kept).toBe(orders.length);
    // The call the killed worker had under way was sent again by the survivor once its claim ran out.
    expect(actions.some((a) => a.attempts > 1)).toBe(true);

    const delivered = [...subscriber.ok.keys()].length;
    const duplicates = [...subscriber.ok.values()].reduce((sum, n) => sum + n - 1, 0);
    // The figures of the run, for the report.
    process.stdout.write(
      `${JSON.stringify({
        sent: orders.length,
        delivered,
        duplicateDeliveries: duplicates,
        refusedFirstAttempts: subscriber.refused.size,
        cutOffByKill: subscriber.cutOff(),
        actionsDone: actions.length,
        actionsSentAgain: actions.filter((a) => a.attempts > 1).length,
        metaKept: after.kept - before.kept,
        metaDuplicatesDropped: after.duplicates - before.duplicates,
      })}\n`,
    );
    expect(delivered).toBe(orders.length);

    const health = await fetch(`${survivor.origin}/health`);
    expect(await health.json()).toEqual(HEALTHY_WORKER);
  }, 180_000);

  it("should read an enrichment through the gateway with the owner's scopes only, and say when the owner is gone", async () => {
    const agent = new Agent();
    const readAs = remoteGraphReadAs({
      gatewayUrl: stack.origins.gateway,
      signer: new GatewayTokenSigner(stack.gatewayTokenKey),
      agent,
    });
    try {
      const email = stack.world.customers[0]!.person.email;
      const query = 'query($email: String) { customer(email: $email) { email } }';
      expect(await readAs('admin', query, { email })).toEqual({ data: { customer: { email } } });
      // The reporting dashboard holds no crm or pii scope: the same read is refused for it.
      const dashboard = await readAs('reporting-dashboard', query, { email });
      expect(dashboard?.data?.['customer'] ?? null).toBeNull();
      expect(dashboard?.errors?.length).toBeGreaterThan(0);
      expect(await readAs('no-such-client', query, { email })).toBeUndefined();
    } finally {
      await agent.close();
    }
  });
});
