import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { healthKey } from '../../lib/health/shared.js';
import { assessConnection } from '../../monitoring/review/assess.js';
import { collectReview } from '../../monitoring/review/collect.js';
import { as } from '../helpers/clients.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';
import { metaSandboxEnv, startWorkerProcess, stopWorkers, type WorkerProcess } from '../helpers/worker.js';

interface Row {
  name: string;
  kind: string;
  status: string;
  errorRate: number | null;
  window: { calls: number; errors: number; errorsByClass: { errorClass: string; count: number }[] };
}

/**
 * Issue 16 with BACKGROUND_JOBS=worker: deliveries and actions run in a `worker` process, so their
 * figures are recorded there. The worker publishes them to Redis and the gateway merges them: its
 * `integrations` and `/status` show the endpoint's failing deliveries and the Meta action, though
 * the gateway itself made none of those calls; when the worker stops, its figures drop out.
 */
describe.runIf(REDIS_URL)(redisSuite('health figures of worker processes at the gateway'), () => {
  let stack: Stack;
  let worker: WorkerProcess | undefined;
  let endpoint: Server;
  let endpointUrl: string;
  let redis: ReturnType<typeof createClient>;
  const prefix = `test-worker-health-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    // An endpoint that is down: every delivery attempt gets a 503.
    endpoint = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503).end('down'));
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hooks`;
    stack = await startTestStack({
      customers: 20,
      events: {
        log: { kind: 'redis', url: REDIS_URL ?? '', prefix },
        backgroundJobs: 'worker',
        healthShareIntervalMs: 200,
      },
    });
    redis = createClient({ url: REDIS_URL ?? '' });
    await redis.connect();
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopWorkers([worker]);
    await stack?.close();
    await new Promise((resolve) => endpoint?.close(resolve));
    await redis?.close();
  });

  /** `rows()` every 400 ms until `done` (a faster poll would spend admin's rate limit), at most 30 s. */
  const rowsUntil = async (done: (rows: Row[]) => boolean): Promise<Row[]> => {
    let value = await rows();
    for (let i = 0; i < 75 && !done(value); i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      value = await rows();
    }
    return value;
  };
  const rows = async (): Promise<Row[]> => {
    const response = await graphql<{ integrations: Row[] }>(
      stack.gatewayUrl,
      '{ integrations { name kind status errorRate window(span: ONE_HOUR) { calls errors errorsByClass { errorClass count } } } }',
      {},
      as('admin'),
    );
    expect(response.body.errors).toBeUndefined();
    return response.body.data!.integrations;
  };

  it('should show the worker’s deliveries and actions in the gateway’s integrations (what `/status` and `review` read), and drop them when it stops', async () => {
    const created = await graphql<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
      stack.gatewayUrl,
      'mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [ORDER_PLACED] }) { endpoint { id } } }',
      { url: endpointUrl },
      as('admin'),
    );
    expect(created.body.errors).toBeUndefined();
    const endpointName = `endpoint:${created.body.data!.createWebhookEndpoint.endpoint.id}`;
    // Before any worker: the gateway made no delivery and no action call.
    const before = await rows();
    expect(before.find((row) => row.name === endpointName)?.window.calls ?? 0).toBe(0);
    expect(before.find((row) => row.kind === 'ACTION')).toBeUndefined();

    worker = await startWorkerProcess(stack, prefix, {
      WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms',
      ...metaSandboxEnv(stack.origins.meta),
      HEALTH_SHARE_INTERVAL_MS: '200',
    });
    const emails = stack.world.customers.map((c) => c.person.email);
    for (let i = 0; i < 4; i++) {
      const response = await postWebhook(
        stack.origins.gateway,
        shopifyOrder({ email: emails[i]!, totalPrice: `${300 + i}.00` }),
      );
      expect(response.status).toBe(200);
    }

    // 4 orders, 3 attempts each, every one a 503: all recorded in the worker, all seen at the gateway.
    const seen = await rowsUntil(
      (r) => (r.find((row) => row.name === endpointName)?.window.calls ?? 0) >= 12,
    );
    const row = seen.find((r) => r.name === endpointName)!;
    expect(row).toMatchObject({ kind: 'ENDPOINT', status: 'DOWN', errorRate: 1 });
    expect(row.window.errors).toBe(row.window.calls);
    expect(row.window.errorsByClass.reduce((sum, e) => sum + e.count, 0)).toBe(row.window.errors);
    // The demo rule's Meta Purchase action, run by the worker.
    const action = await rowsUntil(
      (r) => (r.find((x) => x.name === 'action:meta/conversion')?.window.calls ?? 0) >= 4,
    );
    expect(action.find((x) => x.name === 'action:meta/conversion')).toMatchObject({
      kind: 'ACTION',
      status: 'OK',
    });

    // The quarterly review reads the same merged model: the worker's connections are in it.
    const review = await collectReview({ gatewayOrigin: stack.origins.gateway, apiKey: DEMO_API_KEYS.admin });
    const reviewed = review.integrations.find((integration) => integration.name === endpointName)!;
    expect(reviewed.day.calls).toBeGreaterThanOrEqual(12);
    expect(assessConnection(reviewed, undefined, review.endpoints).recommendation).toBe('fix');
    expect(review.integrations.map((integration) => integration.name)).toContain('action:meta/conversion');

    // The worker stops: its snapshot is deleted, and its figures leave the gateway's view.
    expect(await redis.keys(healthKey(prefix, '*'))).toHaveLength(1);
    worker.child.kill('SIGTERM');
    await worker.exited;
    expect(await redis.keys(healthKey(prefix, '*'))).toEqual([]);
    const after = await rowsUntil((r) => (r.find((x) => x.name === endpointName)?.window.calls ?? 0) === 0);
    expect(after.find((x) => x.name === 'action:meta/conversion')).toBeUndefined();
  });
});
