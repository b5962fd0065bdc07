import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from '../../bench/gateway-process.js';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { startTestStack } from '../helpers/stack.js';
import { subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import { shopifyOrder, type SignedWebhook } from '../helpers/webhooks.js';
import { ownedByGateway, UNPRIVILEGED } from './cli.js';

type OrderEvent = { events: { properties: { orderId: string } } };
const ORDERS = 'subscription { events(types: [ORDER_PLACED]) { properties } }';

async function post(origin: string, webhook: SignedWebhook) {
  const response = await fetch(`${origin}${webhook.path}`, {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
  });
  const body = (await response.json()) as {
    accepted?: number;
    errors?: { extensions: { code: string } }[];
  };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

/**
 * The embedded log's data directory failing under a running gateway (a child process, run as an
 * unprivileged user when the test runs as root, for whom no directory is read-only). SQLite would
 * keep writing through its open files; the gateway must refuse instead, and recover by itself.
 */
describe('the SQLite event log when its data directory fails while the gateway runs', () => {
  let stack: Stack;
  const base = mkdtempSync(join(tmpdir(), 'faults-data-dir-'));
  chmodSync(base, 0o755);
  const rules = typeOnlyRoutingRules();
  chmodSync(dirname(rules), 0o755);
  let gateway: GatewayProcess | undefined;
  let subscriber: Subscriber<OrderEvent> | undefined;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterEach(async () => {
    await subscriber?.close();
    await gateway?.kill('SIGTERM');
  });
  afterAll(async () => {
    await stack.close();
    // A failed test may leave the directory read-only, which would stop its removal.
    if (existsSync(join(base, 'read-only'))) chmodSync(join(base, 'read-only'), 0o755);
    rmSync(base, { recursive: true, force: true });
    rmSync(dirname(rules), { recursive: true, force: true });
  });

  async function start(dataDir: string) {
    mkdirSync(dataDir);
    ownedByGateway(dataDir);
    gateway = await startGatewayProcess(
      stack,
      { EVENT_LOG: 'sqlite', DATA_DIR: dataDir, ROUTING_RULES_FILE: rules },
      [],
      UNPRIVILEGED,
    );
    subscriber = subscribeWs<OrderEvent>(gateway.origin, as('admin'), ORDERS);
    await subscriber.ready;
    return { gateway, subscriber };
  }
  const email = () => stack.world.customers[0]!.person.email;

  it('should answer 503 EVENT_LOG_UNAVAILABLE while DATA_DIR is read-only, stay up, and take the redeliveries once it is writable', async () => {
    const dataDir = join(base, 'read-only');
    const { gateway, subscriber } = await start(dataDir);
    const first = shopifyOrder({ email: email(), totalPrice: '20.00' });
    expect((await post(gateway.origin, first)).status).toBe(200);
    await subscriber.received.atLeast(1);

    chmodSync(dataDir, 0o555);
    const during = Array.from({ length: 3 }, () => shopifyOrder({ email: email(), totalPrice: '30.00' }));
    for (const webhook of during) {
      const refused = await post(gateway.origin, webhook);
      expect(refused.status).toBe(503);
      expect(refused.body.errors?.[0]?.extensions.code).toBe('EVENT_LOG_UNAVAILABLE');
      expect(refused.retryAfter).toBe('5');
    }
    expect((await fetch(`${gateway.origin}/health`)).status).toBe(200);

    chmodSync(dataDir, 0o755);
    // The platforms redeliver what was refused.
    for (const webhook of during) expect((await post(gateway.origin, webhook)).body.accepted).toBe(1);
    await subscriber.received.atLeast(1 + during.length);
    expect(subscriber.received.results.map((r) => r.data!.events.properties.orderId)).toEqual(
      [first, ...during].map((w) => String(w.orderId)),
    );
    expect(gateway.child.exitCode).toBeNull();
    const said = gateway.output().split('\n');
    expect(said.filter((line) => line.includes('the event log cannot be written'))).toHaveLength(1);
  });

  it('should refuse with 503, not acknowledge into a file nobody will open again, while DATA_DIR is moved away', async () => {
    const dataDir = join(base, 'moved');
    const { gateway, subscriber } = await start(dataDir);
    const first = shopifyOrder({ email: email(), totalPrice: '20.00' });
    expect((await post(gateway.origin, first)).status).toBe(200);
    await subscriber.received.atLeast(1);

    // An operator (or a cleanup job) moves the directory away and leaves an empty one in its place.
    renameSync(dataDir, `${dataDir}.old`);
    mkdirSync(dataDir);
    ownedByGateway(dataDir);
    const during = shopifyOrder({ email: email(), totalPrice: '30.00' });
    const refused = await post(gateway.origin, during);
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions.code).toBe('EVENT_LOG_UNAVAILABLE');

    // Put back: the gateway writes to it again, without a restart.
    rmSync(dataDir, { recursive: true });
    renameSync(`${dataDir}.old`, dataDir);
    expect((await post(gateway.origin, during)).body.accepted).toBe(1);
    await subscriber.received.atLeast(2);
    expect(subscriber.received.results.map((r) => r.data!.events.properties.orderId)).toEqual(
      [first, during].map((w) => String(w.orderId)),
    );
  });
});
