import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteActionOutbox } from '../events/actions/outbox-sqlite.js';
import { ActionRunner } from '../events/actions/runner.js';
import { EventProcessor } from '../events/processor.js';
import { loadRoutingRules } from '../events/routing.js';
import type { IncomingEvent } from '../lib/events/event.js';
import { openSqliteEventLog } from '../lib/events/log/sqlite.js';
import { createLogger } from '../lib/logger.js';
import { listen } from '../lib/server/listen.js';
import { META_DEMO } from '../platforms/meta/demo.js';
import { connectActionExecutors, sandboxConnections } from '../platforms/registry.js';
import { buildSandbox } from '../sandboxes/registry.js';
import { generateWorld } from '../sandboxes/world/world.js';
import { BENCH_ANCHOR_DATE, table, verdict } from './harness.js';

/**
 * `npm run bench:actions`: 10,000 high-value orders (ORDER_PLACED of 250.00) appended to the
 * embedded event log, processed by the event processor with a rule sending each to Meta as a
 * Conversions API `Purchase`, and run by the action outbox against the Meta sandbox with its
 * limits on. The figures are the actions' own: the processor makes no graph reads here (the rule
 * needs no customer context), and ingest has its own benchmark (`bench:webhooks`).
 *
 * Targets (issue 14): calls to Meta equal the lower bound, ceil(orders / 1,000) (Meta takes up to
 * 1,000 events a request), 0 throttling answers from Meta (client-visible 429s; Meta answers
 * throttling with HTTP 400 and a code, so any non-200 counts), every order sent, none failed.
 */
const ORDERS = Number(process.env['BENCH_ACTION_ORDERS'] ?? 10_000);
const EVENTS_ENDPOINT = 'POST /{version}/{pixelId}/events';
const silent = createLogger({ name: 'bench', level: 'silent' });

const dir = mkdtempSync(join(tmpdir(), 'mg-bench-actions-'));
const rulesFile = join(dir, 'rules.yaml');
writeFileSync(
  rulesFile,
  [
    'rules:',
    '  - name: high-value orders',
    '    when: { types: [ORDER_PLACED], orderTotalAtLeast: "200.00" }',
    '    actions:',
    `      - { platform: meta, type: conversion, event: Purchase, pixelId: '${META_DEMO.assets.pixelId}' }`,
  ].join('\n'),
);
const rules = loadRoutingRules(rulesFile);

const world = generateWorld({ seed: 42, customers: 200, anchorDate: BENCH_ANCHOR_DATE });
const sandbox = await buildSandbox('meta', { world, logger: silent, rateLimits: true });
const listening = await listen(sandbox.server, 0, '127.0.0.1');
const file = join(dir, 'events.db');
const log = openSqliteEventLog({ file, synchronous: 'normal', logger: silent });
const outbox = openSqliteActionOutbox({ file, synchronous: 'normal' });
const executors = connectActionExecutors(sandboxConnections({ meta: listening.origin }), {
  timeoutMs: 10_000,
  maxRetries: 3,
  logger: silent,
});
const runner = new ActionRunner({ outbox, rules, executors, logger: silent });
const processor = new EventProcessor({
  log,
  rules,
  customerContext: () => Promise.resolve(null),
  invalidate: () => Promise.resolve(),
  actions: runner,
  logger: silent,
});

let met = false;
try {
  const now = Date.now();
  const orders: IncomingEvent[] = Array.from({ length: ORDERS }, (_, i) => ({
    dedupeKey: `bench-order-${i}`,
    type: 'ORDER_PLACED',
    source: 'shopify',
    occurredAt: new Date(now - 60_000).toISOString(),
    receivedAt: new Date(now).toISOString(),
    customer: { email: `buyer.${i}@example.com` },
    properties: { orderId: 5_000_000 + i, totalPrice: '250.00', currency: 'USD' },
    personal: null,
  }));
  const started = performance.now();
  for (let i = 0; i < orders.length; i += 1_000) await log.append(orders.slice(i, i + 1_000));
  await runner.start();
  processor.start();
  const deadline = Date.now() + 120_000;
  let settled = 0;
  while (Date.now() < deadline) {
    const done = (await outbox.list({ status: 'done', limit: ORDERS })).length;
    const failed = (await outbox.list({ status: 'failed', limit: ORDERS })).length;
    settled = done + failed;
    if (settled >= ORDERS) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  const done = await outbox.list({ status: 'done', limit: ORDERS });
  const failed = await outbox.list({ status: 'failed', limit: ORDERS });
  const retried = done.filter((a) => a.attempts > 1).length;
  const statuses = sandbox.stats.snapshot().endpoints[EVENTS_ENDPOINT]?.statuses ?? {};
  const calls = Object.values(statuses).reduce((s, n) => s + n, 0);
  const throttled = calls - (statuses['200'] ?? 0);
  const lowerBound = Math.ceil(ORDERS / 1_000);
  met = calls === lowerBound && throttled === 0 && done.length === ORDERS && failed.length === 0;
  console.log(
    `\n${ORDERS.toLocaleString('en')} high-value orders -> Meta Conversions API Purchase, Meta sandbox with its limits on.`,
  );
  console.log(
    table(
      [
        'orders',
        'sent (done)',
        'failed',
        'retried',
        'calls to Meta',
        'lower bound',
        '429s seen by the client',
        'took',
      ],
      [
        [
          ORDERS,
          done.length,
          failed.length,
          retried,
          calls,
          lowerBound,
          throttled,
          `${seconds.toFixed(1)} s`,
        ],
      ],
    ),
  );
  console.log(
    `\nTarget (calls = ceil(orders / 1,000), 0 client-visible 429s, every order sent): ${verdict(met)}`,
  );
} finally {
  await processor.stop();
  await runner.stop();
  for (const executor of Object.values(executors)) await executor.close();
  await outbox.close();
  await log.close();
  await listening.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(met ? 0 : 1);
