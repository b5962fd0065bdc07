import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { LOOPBACK_ALLOW_LIST } from '../../events/deliveries-config.js';
import { startTracing } from '../../lib/telemetry/tracing-sdk.js';
import { stopTracing } from '../../lib/telemetry/tracing.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL } from '../helpers/redis.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * Issue 16: one trace per webhook, from ingest through processing to each delivery attempt, though
 * each is its own job reading the log at its own time. The webhook's span context is stored with
 * the event (and then with each outbox message), and the processor's and the dispatcher's spans
 * continue it. In-memory exporter, real stack, a real receiver that fails once then answers 200;
 * on the SQLite log and, with REDIS_URL, on the Redis log and its distributed outbox.
 */
const exporter = new InMemorySpanExporter();
const registry = writeTestRegistry([{ id: 'ops', scopes: ['webhooks:admin', 'commerce:read', 'crm:read'] }]);
const ops = { authorization: `Bearer ${registry.keys['ops']?.[0] ?? ''}` };

// One provider for the file: registering the global one again between suites loses the context.
beforeAll(() => {
  startTracing({ serviceName: 'event-traces-test', processor: new SimpleSpanProcessor(exporter) });
});
afterAll(() => stopTracing());

const LOGS = [
  { name: 'SQLite', log: undefined },
  ...(REDIS_URL
    ? [
        {
          name: 'Redis',
          log: { kind: 'redis' as const, url: REDIS_URL, prefix: `test-traces-${randomUUID()}` },
        },
      ]
    : []),
];

describe.each(LOGS)('traces per webhook: ingest → processing → delivery ($name log)', ({ log }) => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack({
      customers: 30,
      rateLimits: false,
      clientsFile: registry.clientsFile,
      events: {
        ...(log ? { log } : {}),
        webhookDeliveries: { allowHttp: true, allow: [...LOOPBACK_ALLOW_LIST], retryScheduleMs: [0, 50] },
      },
    });
    let answered = 0;
    receiver = await startReceiver(() => ({ status: answered++ === 0 ? 503 : 200 }));
  });
  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
  });

  it('should put the webhook span, the processing span and every delivery attempt in one trace', async () => {
    const created = await graphql(
      stack.gatewayUrl,
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
      { input: { url: receiver.url, eventTypes: ['ORDER_PLACED'] } },
      ops,
    );
    expect(created.body.errors).toBeUndefined();
    exporter.reset();

    const customer = stack.world.customers.find((c) => c.shop)!;
    const order = shopifyOrder({ email: customer.person.email, totalPrice: '250.00' });
    expect((await postWebhook(stack.origins.gateway, order)).status).toBe(200);
    await receiver.waitFor(2); // a 503, then the retry's 200

    const spans = await eventually(
      () => Promise.resolve(exporter.getFinishedSpans()),
      (finished) => finished.filter((s) => s.name === 'webhook.deliver').length >= 2,
    );
    const ingest = spans.filter((s) => s.name === 'webhook shopify');
    expect(ingest).toHaveLength(1);
    const root = ingest[0]!;
    expect(root.kind).toBe(SpanKind.SERVER);
    const traceId = root.spanContext().traceId;
    const inTrace = (s: ReadableSpan) => s.spanContext().traceId === traceId;
    const childOfRoot = (s: ReadableSpan) => s.parentSpanContext?.spanId === root.spanContext().spanId;

    const processing = spans.filter((s) => s.name === 'event.process ORDER_PLACED');
    expect(processing).toHaveLength(1);
    expect(inTrace(processing[0]!) && childOfRoot(processing[0]!)).toBe(true);
    expect(processing[0]!.kind).toBe(SpanKind.CONSUMER);

    const attempts = spans.filter((s) => s.name === 'webhook.deliver');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(inTrace(attempt) && childOfRoot(attempt)).toBe(true);
      expect(attempt.kind).toBe(SpanKind.CLIENT);
    }
    expect(attempts.map((a) => a.attributes['webhook.attempt']).sort()).toEqual([1, 2]);
    expect(attempts.map((a) => a.attributes['http.response.status_code']).sort()).toEqual([200, 503]);
    const failed = attempts.find((a) => a.attributes['webhook.attempt'] === 1)!;
    expect(failed.status.message).toBe('WEBHOOK_STATUS');
    // No personal data in names or attributes.
    const text = JSON.stringify(spans.filter(inTrace).map((s) => [s.name, s.attributes]));
    expect(text).not.toContain(customer.person.email);
  });
});
