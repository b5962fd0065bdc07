import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from '../../bench/gateway-process.js';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import { postWebhook, shopifyOrder, type SignedWebhook } from '../helpers/webhooks.js';
import { startOwnRedis, type OwnRedis } from './redis-server.js';

type OrderEvent = { events: { properties: { orderId: string } } };
const ORDERS = 'subscription { events(types: [ORDER_PLACED]) { properties } }';

/** Posts a webhook until the gateway acknowledges it, as a platform redelivers after a 503. */
async function deliverUntilAcknowledged(origin: string, webhook: SignedWebhook): Promise<number> {
  const deadline = Date.now() + 20_000;
  let refusals = 0;
  for (;;) {
    const response = await fetch(`${origin}${webhook.path}`, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    }).catch(() => undefined);
    await response?.arrayBuffer();
    if (response?.ok) return refusals;
    refusals += 1;
    if (Date.now() > deadline) throw new Error(`the webhook was not acknowledged in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function metric(origin: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${origin}/metrics`, { headers: as('admin') })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** Pino lines (JSON) of the gateway's output whose message contains `text`. */
function lines(output: string, text: string): string[] {
  return output.split('\n').filter((line) => line.includes(text));
}

type History = { events: { edges: { node: { properties: { orderId: string } } }[] } };

/** The order ids in the delivery history, as the `events` query pages it. */
async function history(origin: string): Promise<string[]> {
  const page = await graphql<History>(
    `${origin}/graphql`,
    'query { events(types: [ORDER_PLACED], first: 100) { edges { node { properties } } } }',
    {},
    as('admin'),
  );
  return page.body.data!.events.edges.map((edge) => edge.node.properties.orderId);
}

const ids = (webhooks: readonly { orderId: number }[]) => webhooks.map((w) => String(w.orderId));

describe('the Redis event log when its Redis restarts (own redis-server, killed with SIGKILL)', () => {
  let stack: Stack;
  const started: { redis?: OwnRedis; gateway?: GatewayProcess; subscriber?: Subscriber<OrderEvent> } = {};
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterEach(async () => {
    await started.subscriber?.close();
    await started.gateway?.kill('SIGTERM');
    await started.redis?.stop();
  });
  afterAll(async () => {
    await stack.close();
  });

  /** Redis with `redisArgs`, a gateway process on it, and a subscriber to its orders. */
  async function start(redisArgs: readonly string[], logLevel = 'warn') {
    const redis = (started.redis = await startOwnRedis(redisArgs));
    const gateway = (started.gateway = await startGatewayProcess(stack, {
      EVENT_LOG: 'redis',
      REDIS_URL: redis.url,
      ROUTING_RULES_FILE: typeOnlyRoutingRules(),
      LOG_LEVEL: logLevel,
    }));
    // Everything it says: its start-up, then every line (not only the tail the helper keeps).
    let output = gateway.output();
    const collect = (chunk: Buffer) => (output += chunk.toString('utf8'));
    gateway.child.stdout?.on('data', collect);
    gateway.child.stderr?.on('data', collect);
    const subscriber = (started.subscriber = subscribeWs<OrderEvent>(gateway.origin, as('admin'), ORDERS));
    await subscriber.ready;
    return { redis, gateway, subscriber, said: (text: string) => lines(output, text) };
  }
  const order = (totalPrice: string) =>
    shopifyOrder({ email: stack.world.customers[0]!.person.email, totalPrice });
  const delivered = (subscriber: Subscriber<OrderEvent>) =>
    subscriber.received.results.map((r) => r.data!.events.properties.orderId);

  it('should refuse webhooks while Redis is down, then process and deliver those acknowledged after it came back empty, without a gateway restart', async () => {
    const { redis, gateway, subscriber, said } = await start(['--save', '', '--appendonly', 'no']);
    // At start-up: this Redis keeps nothing across a restart.
    expect(said('Redis has no AOF persistence (appendonly no)')).toHaveLength(1);
    const before = order('20.00');
    await deliverUntilAcknowledged(gateway.origin, before);
    await subscriber.received.atLeast(1, 10_000);

    await redis.kill();
    // While Redis is down, nothing is acknowledged that could not be stored.
    const down = order('25.00');
    const refused = await postWebhook(gateway.origin, down);
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions['code']).toBe('EVENT_LOG_UNAVAILABLE');
    await redis.restart();
    const after = [down, order('30.00'), order('31.00'), order('32.00')];
    for (const webhook of after) await deliverUntilAcknowledged(gateway.origin, webhook);
    await subscriber.received.atLeast(1 + after.length, 20_000);
    expect(delivered(subscriber)).toEqual(ids([before, ...after]));

    // The loss is said once, clearly, and counted; the group is recreated rather than failed on.
    expect(said('the Redis event log lost its content')).toHaveLength(1);
    expect(said('NOGROUP').length).toBeLessThanOrEqual(3);
    expect(await metric(gateway.origin, 'event_log_resets_total')).toBe(1);
    // Lost with it: the history before the restart, and the dedupe keys (a redelivery is new again).
    expect(await history(gateway.origin)).toEqual(ids(after));
    expect((await postWebhook(gateway.origin, before)).body).toEqual({ accepted: 1, duplicates: 0 });
    await subscriber.received.atLeast(2 + after.length, 20_000);
  }, 90_000);

  it('should keep the log across a Redis crash with appendonly yes (appendfsync everysec), and say nothing is lost', async () => {
    const { redis, gateway, subscriber, said } = await start([
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
    ]);
    expect(said('appendonly no')).toHaveLength(0);
    const before = order('20.00');
    await deliverUntilAcknowledged(gateway.origin, before);
    await subscriber.received.atLeast(1, 10_000);

    await redis.kill();
    await redis.restart();
    const after = order('30.00');
    await deliverUntilAcknowledged(gateway.origin, after);
    await subscriber.received.atLeast(2, 20_000);
    expect(delivered(subscriber)).toEqual(ids([before, after]));
    expect(await history(gateway.origin)).toEqual(ids([before, after]));
    // Still remembered: the platform's redelivery is a duplicate, stored once.
    expect((await postWebhook(gateway.origin, before)).body).toEqual({ accepted: 0, duplicates: 1 });
    expect(said('lost its content')).toHaveLength(0);
    expect((await metric(gateway.origin, 'event_log_resets_total')) ?? 0).toBe(0);
  }, 90_000);

  it('should start, and say it could not check persistence, when the Redis refuses CONFIG', async () => {
    const { gateway, said } = await start(
      ['--save', '', '--appendonly', 'no', '--rename-command', 'CONFIG', ''],
      'info',
    );
    expect((await fetch(`${gateway.origin}/health`)).status).toBe(200);
    expect(said('could not read Redis persistence settings')).toHaveLength(1);
    expect(said('appendonly no')).toHaveLength(0);
  }, 90_000);
});
