import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import {
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from '../../bench/gateway-process.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { subscribeWs } from '../helpers/subscriptions.js';
import { shopifyOrder, type SignedWebhook } from '../helpers/webhooks.js';

const WEBHOOKS = 1_000;
const ORDERS =
  'subscription($after: String) { events(types: [ORDER_PLACED], after: $after) { cursor properties } }';
type OrderEvent = { events: { cursor: string; properties: { orderId: string } } };

/** Posts one webhook; true when the gateway acknowledged it (2xx), false when it did not answer or refused. */
async function deliver(origin: string, webhook: SignedWebhook): Promise<boolean> {
  try {
    const response = await fetch(`${origin}${webhook.path}`, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Every delivered ORDER_PLACED order id, paging through the history query. */
async function history(origin: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Awaited<
      ReturnType<
        typeof graphql<{
          events: {
            edges: { node: { properties: { orderId: string } } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        }>
      >
    > = await graphql(
      `${origin}/graphql`,
      'query($after: String) { events(types: [ORDER_PLACED], first: 100, after: $after) { edges { node { properties } } pageInfo { hasNextPage endCursor } } }',
      { after },
      as('admin'),
    );
    if (!page.body.data) throw new Error(`history query failed: ${JSON.stringify(page.body.errors)}`);
    ids.push(...page.body.data.events.edges.map((e) => e.node.properties.orderId));
    if (!page.body.data.events.pageInfo.hasNextPage) return ids;
    after = page.body.data.events.pageInfo.endCursor;
  }
}

describe('crash safety of the embedded event log (gateway as a child process, SIGKILL mid-stream)', () => {
  let stack: Stack;
  const dataDir = mkdtempSync(join(tmpdir(), 'gateway-crash-'));
  let gateway: GatewayProcess | undefined;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should keep every acknowledged webhook, store it once and deliver it once to a resumed subscription', async () => {
    const env = { EVENT_LOG: 'sqlite', DATA_DIR: dataDir, ROUTING_RULES_FILE: typeOnlyRoutingRules() };
    gateway = await startGatewayProcess(stack, env);
    const first = subscribeWs<OrderEvent>(gateway.origin, as('admin'), ORDERS);
    await first.ready;

    const emails = stack.world.customers.map((c) => c.person.email);
    const webhooks = Array.from({ length: WEBHOOKS }, (_, i) =>
      shopifyOrder({ email: emails[i % emails.length]!, totalPrice: `${(i % 300) + 1}.00` }),
    );
    const acknowledged = new Set<number>();
    const origin = gateway.origin;
    const victim = gateway;
    let next = 0;
    let killed = false;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < webhooks.length) {
          const index = next++;
          if (await deliver(origin, webhooks[index]!)) acknowledged.add(index);
          // Mid-stream: kill -9 once 40% are acknowledged, with requests still in flight.
          if (!killed && acknowledged.size >= WEBHOOKS * 0.4) {
            killed = true;
            void victim.kill('SIGKILL');
          }
        }
      }),
    );
    await victim.kill('SIGKILL');
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(WEBHOOKS * 0.4);
    expect(acknowledged.size).toBeLessThan(WEBHOOKS);
    const seenBefore = first.received.results.map((r) => r.data!.events);
    await first.close();

    // The same data directory, a new process: it resumes the work left in the log.
    gateway = await startGatewayProcess(stack, env);
    const orderIds = webhooks.map((w) => String(w.orderId));
    const acknowledgedIds = [...acknowledged].map((index) => orderIds[index]!);
    // Acknowledged means stored: the restarted process finds each one in the log and delivers it.
    const missing = async () => {
      const stored = new Set(await history(gateway!.origin));
      return acknowledgedIds.filter((id) => !stored.has(id)).length;
    };
    await expect.poll(missing, { timeout: 30_000, interval: 1_000 }).toBe(0);

    // The platform redelivers what was not acknowledged, and some of what was (at-least-once).
    for (let i = 0; i < webhooks.length; i++) {
      if (!acknowledged.has(i) || i % 10 === 0)
        expect(await deliver(gateway.origin, webhooks[i]!)).toBe(true);
    }
    await expect
      .poll(async () => (await history(gateway!.origin)).length, { timeout: 30_000, interval: 250 })
      .toBe(WEBHOOKS);
    const all = await history(gateway.origin);
    expect(new Set(all).size).toBe(WEBHOOKS);

    // A subscriber resuming after the last event it saw gets the rest, each once.
    const lastCursor = seenBefore.at(-1)?.cursor;
    const resumed = subscribeWs<OrderEvent>(
      gateway.origin,
      as('admin'),
      ORDERS,
      lastCursor ? { after: lastCursor } : {},
    );
    await resumed.received.atLeast(WEBHOOKS - seenBefore.length, 30_000);
    await resumed.close();
    const delivered = [...seenBefore, ...resumed.received.results.map((r) => r.data!.events)].map(
      (e) => e.properties.orderId,
    );
    expect(delivered).toHaveLength(WEBHOOKS);
    expect(new Set(delivered)).toEqual(new Set(orderIds));
  }, 120_000);
});
