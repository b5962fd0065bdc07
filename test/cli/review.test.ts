import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { assessConnection } from '../../monitoring/review/assess.js';
import type { ReviewIntegration } from '../../monitoring/review/collect.js';
import { endpointCallsFrom } from '../../monitoring/review/collect.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { HOUR_MS } from '../../lib/health/history/rollup.js';
import { openHealthHistoryStore } from '../../lib/health/history/store.js';

/**
 * Issue 16: `cli/main.ts review`, the quarterly integration review, as its own process against a
 * running demo stack: Shopify answers every call with 503 so its client needs fixing, the others
 * are healthy and kept, and a webhook source nothing sent is to retire. The Markdown and the HTML
 * (inline SVG, no script) carry the same connections; a key without monitoring:read is refused.
 */
function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'review', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

const day = (calls: number, errors: number) => ({
  calls,
  errors,
  exhausted: 0,
  successRate: calls === 0 ? null : (calls - errors) / calls,
  latency: calls === 0 ? null : { p50: 50, p95: 100, p99: 250 },
  errorsByClass: [],
});
const integration = (overrides: Partial<ReviewIntegration>): ReviewIntegration => ({
  name: 'hubspot',
  kind: 'PLATFORM',
  platform: 'hubspot',
  status: 'OK',
  freshness: 10,
  budget: null,
  breakerOpen: false,
  deliveriesExhausted: null,
  disabled: null,
  version: null,
  lastError: null,
  day: day(1000, 2),
  hour: day(100, 0),
  ...overrides,
});
const descriptor = {
  title: 'HubSpot',
  credential: { variable: 'X', header: 'authorization', scopes: ['a.read', 'b.read'], leastPrivilege: '' },
};

describe('review recommendations', () => {
  it('should keep a healthy connection, fix an unreliable one, retire an unused one', () => {
    expect(assessConnection(integration({}), descriptor, null)).toMatchObject({
      recommendation: 'keep',
      title: 'HubSpot',
      scopes: { declared: ['a.read', 'b.read'], used: ['a.read', 'b.read'], unused: [] },
    });
    const unreliable = assessConnection(integration({ day: day(1000, 30) }), descriptor, null);
    expect(unreliable.recommendation).toBe('fix');
    expect(unreliable.reasons.join()).toContain('3.0% of 1000 calls failed');
    const warned = integration({
      version: {
        inUse: '2025-01',
        latest: '2026-10',
        supportedUntil: '2026-01-01',
        warnings: ['unsupported'],
      },
    });
    expect(assessConnection(warned, descriptor, null).recommendation).toBe('fix');
    const idle = assessConnection(integration({ status: 'IDLE', day: day(0, 0) }), descriptor, null);
    expect(idle).toMatchObject({
      recommendation: 'retire',
      scopes: { used: [], unused: ['a.read', 'b.read'] },
    });
  });

  it('should read the calls by endpoint from the metrics text', () => {
    const calls = endpointCallsFrom(
      [
        '# TYPE upstream_calls_total counter',
        'upstream_calls_total{platform="shopify",endpoint="GET /shop.json",status="200"} 3',
        'upstream_calls_total{platform="shopify",endpoint="GET /shop.json",status="503"} 2',
        'upstream_calls_total{platform="shopify",endpoint="GET /orders.json",status="200"} 7',
        'upstream_calls_total{platform="mailchimp",endpoint="GET /3.0/lists/{listId}/members",status="200"} 4',
      ].join('\n'),
    );
    expect(calls.get('shopify')).toEqual([
      { endpoint: 'GET /orders.json', calls: 7, failed: 0 },
      { endpoint: 'GET /shop.json', calls: 5, failed: 2 },
    ]);
    expect(calls.get('mailchimp')).toEqual([
      { endpoint: 'GET /3.0/lists/{listId}/members', calls: 4, failed: 0 },
    ]);
  });
});

describe('review command against a running demo stack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ customers: 30, rateLimits: false, responseCache: false, ttlSeconds: 1 });
  });
  afterAll(async () => {
    stack?.sandboxes.shopify.faults.set({});
    await stack?.close();
  });

  const profile = (index: number) =>
    fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as('personalization-service', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        query: `{ customer(email: "${stack.world.customers[index]!.person.email}") { email ordersCount emailSubscription { status } } }`,
      }),
    });

  it('should write the Markdown and HTML review with a recommendation per connection', async () => {
    for (let i = 0; i < 4; i++) await profile(i);
    stack.sandboxes.shopify.faults.set({ errorRate: 1, errorStatus: 503 });
    for (let i = 4; i < 10; i++) await profile(i);

    const out = mkdtempSync(join(tmpdir(), 'review-'));
    const env = { GATEWAY_URL: stack.origins.gateway, MARKETING_GRAPH_API_KEY: DEMO_API_KEYS.admin };
    const result = await cli(['--out', out, '--quarter', '2026-Q4'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(join(out, 'integration-review-2026-Q4.md'));

    const markdown = readFileSync(join(out, 'integration-review-2026-Q4.md'), 'utf8');
    const row = (name: string) => markdown.split('\n').find((line) => line.startsWith(`| ${name} |`)) ?? '';
    expect(row('shopify')).toMatch(/\| platform \| DOWN \| \d+ \|.*\*\*fix\*\* \|$/);
    expect(row('hubspot')).toMatch(/\| platform \| OK \| \d+ \| 100\.00% \|.*\*\*keep\*\* \|$/);
    expect(row('mailchimp')).toContain('**keep**');
    expect(markdown).toContain('## Shopify (shopify): fix');
    expect(markdown).toMatch(/status DOWN/);
    // Scopes from the descriptor, calls by endpoint from /metrics.
    expect(markdown).toContain(
      'Credential scopes declared: `read_customers`, `read_orders`, `read_all_orders`',
    );
    expect(markdown).toMatch(/\| `GET \/customers\/search\.json` \| \d+ \| \d+ \|/);
    expect(markdown).toMatch(/\| `GET \/lists\/\{list_id\}\/members\/\{subscriber_hash\}` \| \d+ \| \d+ \|/); // braces and all
    expect(markdown).toMatch(/Version: 2026-10 \(supported until \d{4}-\d{2}-\d{2}\)/);

    const html = readFileSync(join(out, 'integration-review-2026-Q4.html'), 'utf8');
    expect(html).toContain('<h1>Integration review 2026-Q4</h1>');
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect(html).not.toMatch(/<script|\s(src|href)=/); // nothing to load: it opens offline
    for (const name of ['shopify', 'hubspot', 'mailchimp']) expect(html).toContain(`<td>${name}</td>`);
    expect(html).toMatch(/<td class="rec fix">fix<\/td>/);
  });

  it('should refuse a key without monitoring:read, saying why', async () => {
    const out = mkdtempSync(join(tmpdir(), 'review-'));
    const result = await cli(['--out', out], {
      GATEWAY_URL: stack.origins.gateway,
      MARKETING_GRAPH_API_KEY: DEMO_API_KEYS['reporting-dashboard'],
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^FORBIDDEN: /);
    const bad = await cli(['--quarter', 'Q4'], { GATEWAY_URL: stack.origins.gateway });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--quarter must look like 2026-Q4');
  });
});

describe('review over a quarter of health history', () => {
  let stack: Stack;
  const file = join(mkdtempSync(join(tmpdir(), 'review-history-')), 'events.db');
  const hour = Math.floor(Date.now() / HOUR_MS);
  beforeAll(async () => {
    // 60 hours of Shopify figures a previous gateway run wrote, 30 to 89 hours ago, in the file
    // the stack's event log and history then open.
    const store = await openHealthHistoryStore({ kind: 'sqlite', file }, 100);
    await store.writeRollups(
      'gateway/earlier-run',
      Array.from({ length: 60 }, (_, i) => ({
        connection: 'shopify',
        kind: 'platform' as const,
        platform: 'shopify',
        hour: hour - 30 - i,
        calls: 100,
        errors: 5,
        exhausted: 0,
        byClass: { server: 5 },
        latency: [0, 0, 0, 0, 95, 0, 0, 0, 5],
        throttledMs: 0,
        freshness: { samples: 1, sumSeconds: 3, maxSeconds: 3 },
      })),
    );
    await store.close();
    stack = await startTestStack({
      customers: 10,
      rateLimits: false,
      responseCache: false,
      events: { log: { kind: 'sqlite', file } },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('should count the seeded days with today in the quarter, and say the span covered', async () => {
    for (let i = 0; i < 3; i++)
      await graphql(
        stack.gatewayUrl,
        `{ customer(email: "${stack.world.customers[i]!.person.email}") { email ordersCount } }`,
        {},
        as('personalization-service'),
      );
    const live = await graphql<{ integration: { day: { calls: number; errors: number } } }>(
      stack.gatewayUrl,
      '{ integration(name: "shopify") { day: window(span: ONE_DAY) { calls errors } } }',
      {},
      as('admin'),
    );
    const today = live.body.data!.integration.day;
    expect(today.calls).toBeGreaterThan(0);

    const out = mkdtempSync(join(tmpdir(), 'review-'));
    const env = { GATEWAY_URL: stack.origins.gateway, MARKETING_GRAPH_API_KEY: DEMO_API_KEYS.admin };
    const result = await cli(['--out', out, '--quarter', '2026-Q4', '--days', '90'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/of the 90 days asked, from the health history \(kept 100 days\)/);
    const markdown = readFileSync(join(out, 'integration-review-2026-Q4.md'), 'utf8');
    // 6,000 seeded calls (300 failed, 5%: to fix) and today's.
    const row = markdown.split('\n').find((line) => line.startsWith('| shopify |')) ?? '';
    expect(row).toContain(`| ${6_000 + today.calls} |`);
    expect(markdown).toContain(
      `Usage: ${6_000 + today.calls} calls in the period, ${300 + today.errors} failed.`,
    );
    expect(row).toContain('**fix**');
    // The span: from the first seeded hour to the hour under way, 61 or 62 hours with figures.
    expect(markdown).toContain(`Figures cover ${new Date((hour - 89) * HOUR_MS).toISOString()} to `);
    expect(markdown).toMatch(/: 6[12] hours with figures \(2\.[56] days\) of the 90 days asked/);

    // A day back: only today's calls.
    const dayOut = mkdtempSync(join(tmpdir(), 'review-'));
    const dayResult = await cli(['--out', dayOut, '--quarter', '2026-Q4', '--days', '1'], env);
    expect(dayResult.code).toBe(0);
    const dayRow =
      readFileSync(join(dayOut, 'integration-review-2026-Q4.md'), 'utf8')
        .split('\n')
        .find((line) => line.startsWith('| shopify |')) ?? '';
    expect(dayRow).toContain(`| ${today.calls} |`);
  });
});
