import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { shopifyOrder, siteFormSubmission, type SignedWebhook } from '../test/helpers/webhooks.js';
import {
  BENCH_WEBHOOK_ENV,
  BENCH_WEBHOOK_SECRETS,
  startGatewayProcess,
  typeOnlyRoutingRules,
} from './gateway-process.js';
import { bench, benchStack, ms, percentile, table, verdict } from './harness.js';

/**
 * `npm run bench:webhooks`: 20,000 signed webhooks (Shopify orders and site form submissions) from
 * 64 concurrent senders into the gateway, running as its own process, first on the embedded SQLite
 * log (synchronous FULL), then on the Redis log. A graphql-ws subscriber of every type measures
 * webhook-to-subscriber latency and counts what arrives. Routing rules are type-only, so processing
 * makes no platform calls: the figures are the pipeline's, not a CRM's rate limit.
 *
 * Targets (issue 5): >= 2,000 accepted/s, ack p99 < 50 ms, 0 lost, delivery p99 < 250 ms.
 */
const TOTAL = Number(process.env['BENCH_WEBHOOKS'] ?? 20_000);
const SENDERS = 64;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface Run {
  log: string;
  acceptedPerSecond: number;
  ackP50: number;
  ackP99: number;
  acknowledged: number;
  refused: number;
  stored: number;
  delivered: number;
  lost: number;
  duplicatesToSubscriber: number;
  deliveryP50: number;
  deliveryP99: number;
}

/** The key a delivered event is matched to its webhook by: the order id, or the form's page URL. */
function keyOf(properties: Record<string, unknown>): string {
  return String(properties['orderId'] ?? properties['pageUrl']);
}

async function run(
  logName: string,
  env: Record<string, string>,
  stack: Awaited<ReturnType<typeof benchStack>>,
): Promise<Run> {
  const gateway = await startGatewayProcess(
    stack,
    {
      ...env,
      ...BENCH_WEBHOOK_ENV,
      NODE_ENV: 'production',
      CLIENTS_FILE: bench.clientsFile,
      ROUTING_RULES_FILE: typeOnlyRoutingRules(),
      LOG_LEVEL: 'warn',
    },
    // For profiling the gateway under this load: BENCH_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    process.env['BENCH_GATEWAY_NODE_ARGS']?.split(' ').filter(Boolean) ?? [],
  );
  try {
    const emails = stack.world.customers.map((c) => c.person.email);
    // Signed before the clock starts: signing is the sender's cost, not the gateway's.
    const webhooks: { webhook: SignedWebhook; key: string }[] = Array.from({ length: TOTAL }, (_, i) => {
      const email = emails[i % emails.length]!;
      if (i % 10 < 7) {
        const order = shopifyOrder({
          email,
          totalPrice: `${(i % 400) + 1}.00`,
          secret: BENCH_WEBHOOK_SECRETS.shopify,
        });
        return { webhook: order, key: String(order.orderId) };
      }
      // In the path: a URL's query (other than attribution) is not kept in the event.
      const pageUrl = `https://www.demo-outdoor.example/newsletter/${i}`;
      const webhook = siteFormSubmission({
        email,
        formId: 'newsletter-signup',
        pageUrl,
        secret: BENCH_WEBHOOK_SECRETS.site,
      });
      return { webhook, key: pageUrl };
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const arrived = new Set<string>();
    let duplicatesToSubscriber = 0;
    let allArrived: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const subscriber = createClient({
      url: `${gateway.origin.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: bench.headers,
      lazy: false,
      retryAttempts: 0,
    });
    let connected: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      connected = resolve;
    });
    subscriber.on('connected', () => connected());
    subscriber.subscribe<{ events: { properties: Record<string, unknown> } }>(
      { query: 'subscription { events { type properties } }' },
      {
        next: ({ data }) => {
          const key = data ? keyOf(data.events.properties) : '';
          const started = sentAt.get(key);
          if (started === undefined) return;
          if (arrived.has(key)) {
            duplicatesToSubscriber++;
            return;
          }
          arrived.add(key);
          latencies.push(performance.now() - started);
          if (arrived.size === TOTAL) allArrived();
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
    await ready;
    await new Promise((resolve) => setTimeout(resolve, 200));

    const agent = new Agent({ connections: SENDERS, keepAliveTimeout: 30_000 });
    const acks: number[] = [];
    let refused = 0;
    let next = 0;
    const started = performance.now();
    let lastReport = started;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < webhooks.length) {
          const { webhook, key } = webhooks[next++]!;
          const t0 = performance.now();
          sentAt.set(key, t0);
          const response = await request(`${gateway.origin}${webhook.path}`, {
            method: 'POST',
            headers: webhook.headers,
            body: webhook.body,
            dispatcher: agent,
          });
          await response.body.dump();
          if (response.statusCode === 200) acks.push(performance.now() - t0);
          else refused++;
          if (performance.now() - lastReport > 2_000) {
            lastReport = performance.now();
            process.stderr.write(`  ${logName}: ${acks.length} acknowledged, ${arrived.size} delivered\n`);
          }
        }
      }),
    );
    const sendSeconds = (performance.now() - started) / 1000;
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await subscriber.dispose();
    await agent.close();
    // What the log holds, from the gateway's own gauges.
    const metrics = await request(`${gateway.origin}/metrics`, { headers: bench.headers });
    const text = await metrics.body.text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    const stored =
      gauge('event_log_delivered') + gauge('event_log_pending') + gauge('event_log_dead_letters');
    return {
      log: logName,
      acceptedPerSecond: acks.length / sendSeconds,
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      acknowledged: acks.length,
      refused,
      stored,
      delivered: arrived.size,
      lost: Math.max(acks.length - stored, acks.length - arrived.size),
      duplicatesToSubscriber,
      deliveryP50: percentile(latencies, 50),
      deliveryP99: percentile(latencies, 99),
    };
  } finally {
    await gateway.kill('SIGTERM');
  }
}

const stack = await benchStack();
const dataDir = mkdtempSync(join(tmpdir(), 'bench-webhooks-'));
const results: Run[] = [];
try {
  console.log(
    `bench:webhooks: ${TOTAL} signed webhooks (70% Shopify orders/create, 30% site form.submitted), ${SENDERS} concurrent senders, one graphql-ws subscriber of every type\n`,
  );
  results.push(
    await run('SQLite (embedded, synchronous FULL)', { EVENT_LOG: 'sqlite', DATA_DIR: dataDir }, stack),
  );
  let redisUp = true;
  try {
    const { createClient: createRedis } = await import('@keyv/redis');
    const redis = createRedis({ url: REDIS_URL });
    await redis.connect();
    await redis.quit();
  } catch {
    redisUp = false;
  }
  if (redisUp) {
    results.push(
      await run(
        'Redis Streams (distributed)',
        { EVENT_LOG: 'redis', REDIS_URL, EVENT_LOG_PREFIX: `bench-events-${Date.now()}` },
        stack,
      ),
    );
  } else {
    console.log(`Redis at ${REDIS_URL} does not answer: the Redis run is skipped.\n`);
  }
  console.log(
    table(
      [
        'event log',
        'accepted/s',
        'ack p50 ms',
        'ack p99 ms',
        'acknowledged',
        'refused',
        'stored',
        'delivered',
        'lost',
        'delivery p50 ms',
        'delivery p99 ms',
      ],
      results.map((r) => [
        r.log,
        r.acceptedPerSecond.toFixed(0),
        ms(r.ackP50),
        ms(r.ackP99),
        r.acknowledged,
        r.refused,
        r.stored,
        r.delivered,
        r.lost,
        ms(r.deliveryP50),
        ms(r.deliveryP99),
      ]),
    ),
  );
  for (const r of results) {
    // Nothing lost: every acknowledged webhook stored once and delivered once to the subscriber.
    const ok =
      r.acceptedPerSecond >= 2_000 &&
      r.ackP99 < 50 &&
      r.lost === 0 &&
      r.refused === 0 &&
      r.stored === r.acknowledged &&
      r.delivered === r.acknowledged &&
      r.duplicatesToSubscriber === 0 &&
      r.deliveryP99 < 250;
    console.log(
      `${r.log}: targets >= 2000 accepted/s, ack p99 < 50 ms, 0 lost, delivery p99 < 250 ms: ${verdict(ok)}`,
    );
  }
} finally {
  await stack.close();
  rmSync(dataDir, { recursive: true, force: true });
}
