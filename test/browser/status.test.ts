// The functions given to page.evaluate run in the browser: this file alone may name the DOM.
/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { as } from '../helpers/clients.js';
import { startTestStack } from '../helpers/stack.js';
import { subscribeSse, subscribeWs } from '../helpers/subscriptions.js';

/**
 * Issue 16: `/status` in a real browser (Debian's Chromium through playwright-core) against the
 * whole stack: paste a key with `monitoring:read`, see a row per connection, make Shopify's sandbox
 * fail and watch the commerce platform's row turn red, open its details; a key without the scope
 * sees the refusal. The page follows `integrationStatusChanged` over SSE: with polling set to 10
 * minutes, Mailchimp's row still turns red as soon as the gateway sees it fail, and a graphql-ws
 * and an SSE client receive the same change. No request leaves the machine, no CSP violation.
 * Screenshots at 1280 px and on a phone go to test-output/status/.
 */
const SCREENSHOTS = 'test-output/status';
const SETTLE = { timeout: 30_000, interval: 200 };

let browser: Browser;
let stack: Stack;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  stack = await startTestStack({
    customers: 30,
    rateLimits: false,
    responseCache: false,
    ttlSeconds: 1,
    upstreamMaxRetries: 0,
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const isLocal = (url: URL) => url.hostname === '127.0.0.1' || url.protocol === 'data:';

async function openStatus(viewport: { width: number; height: number }, query = '') {
  const context = await browser.newContext({ viewport });
  const offMachine: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', async (route) => {
    const target = new URL(route.request().url());
    if (isLocal(target)) return route.continue();
    offMachine.push(target.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${stack.origins.gateway}/status${query}`);
  return { page, offMachine, problems, close: () => context.close() };
}

async function paste(page: Page, key: string) {
  await page.fill('#key', key);
  await page.click('button[type=submit]');
}

const ordersOf = (index: number) =>
  fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: as('personalization-service', { 'content-type': 'application/json' }),
    body: JSON.stringify({
      query: `{ customer(email: "${stack.world.customers[index]!.person.email}") { ordersCount emailSubscription { status } } }`,
    }),
  });

const rowStatus = (page: Page, name: string) =>
  page.evaluate(
    (n) => document.querySelector(`tr[data-name="${n}"]`)?.getAttribute('data-status') ?? null,
    name,
  );

describe('/status in Chromium', () => {
  it('should show every connection, turn a failing platform red, and drill into it', async () => {
    for (let i = 0; i < 4; i++) await ordersOf(i);
    const { page, offMachine, problems, close } = await openStatus({ width: 1280, height: 800 });
    try {
      await paste(page, DEMO_API_KEYS.admin);
      await expect.poll(() => rowStatus(page, 'shopify'), SETTLE).toBe('OK');
      expect(await rowStatus(page, 'mailchimp')).toBe('OK');
      await page.screenshot({ path: `${SCREENSHOTS}/1-healthy.png`, fullPage: true });

      stack.sandboxes.shopify.faults.set({ errorRate: 1, errorStatus: 503 });
      for (let i = 4; i < 8; i++) await ordersOf(i); // 4 of 8 Shopify calls fail: DOWN
      await expect.poll(() => rowStatus(page, 'shopify'), SETTLE).toBe('DOWN');
      const colour = await page.evaluate(
        () => getComputedStyle(document.querySelector('tr[data-name="shopify"] .badge')!).backgroundColor,
      );
      expect(colour).toBe('rgb(207, 34, 46)'); // --down
      await page.click('tr[data-name="shopify"]');
      const details = await page.textContent('#details');
      expect(details).toContain('shopify: DOWN');
      expect(details).toMatch(/4 calls, 0 failed|8 calls, 4 failed/);
      expect(details).toContain('UPSTREAM_');
      await page.screenshot({ path: `${SCREENSHOTS}/2-shopify-down.png`, fullPage: true });
      expect(offMachine).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      stack.sandboxes.shopify.faults.set({});
      await close();
    }
  });

  it('should turn a row red from the status stream, without waiting for a poll', async () => {
    const CHANGES = `subscription Changes($names: [String!]) {
      integrationStatusChanged(names: $names) { name previous status at integration { name status lastError { code } } }
    }`;
    type Change = {
      integrationStatusChanged: {
        name: string;
        previous: string | null;
        status: string;
        at: string;
        integration: { name: string; status: string; lastError: { code: string } | null } | null;
      };
    };
    for (let i = 8; i < 10; i++) await ordersOf(i);
    const { page, offMachine, problems, close } = await openStatus({ width: 1280, height: 800 }, '?poll=600');
    const ws = subscribeWs<Change>(stack.origins.gateway, as('admin'), CHANGES, { names: ['mailchimp'] });
    const sse = subscribeSse<Change>(stack.origins.gateway, as('admin'), CHANGES, { names: ['mailchimp'] });
    const refused = subscribeWs(stack.origins.gateway, as('reporting-dashboard'), CHANGES);
    try {
      await paste(page, DEMO_API_KEYS.admin);
      await expect.poll(() => rowStatus(page, 'mailchimp'), SETTLE).toBe('OK');
      await expect.poll(() => page.evaluate(() => document.body.dataset['live']), SETTLE).toBe('on');
      await Promise.all([ws.ready, sse.ready]);
      expect(ws.received.results).toEqual([]); // changes only, not the current state

      // Mailchimp fails; its breaker opens after 5 failures in a row: DOWN. The page polls every 10
      // minutes, so only the stream can turn the row red within the wait.
      stack.sandboxes.mailchimp.faults.set({ errorRate: 1, errorStatus: 503 });
      for (let i = 10; i < 17; i++) await ordersOf(i);
      await expect.poll(() => rowStatus(page, 'mailchimp'), SETTLE).toBe('DOWN');
      const summary = await page.textContent('#summary');
      expect(summary).toContain('live');

      for (const client of [ws, sse]) {
        // OK may pass through DEGRADED on the way (a second's failures above 5%, not yet half).
        const down = async () => {
          const results = await client.received.atLeast(client.received.results.length + 1, 30_000);
          return results.find((r) => r.data?.integrationStatusChanged.status === 'DOWN');
        };
        let found = client.received.results.find((r) => r.data?.integrationStatusChanged.status === 'DOWN');
        while (!found) found = await down();
        const first = client.received.results[0]!.data!.integrationStatusChanged;
        expect(first.previous).toBe('OK');
        const change = found.data!.integrationStatusChanged;
        expect(found.errors).toBeUndefined();
        expect(change).toMatchObject({ name: 'mailchimp', status: 'DOWN' });
        expect(change.previous).not.toBe('DOWN');
        expect(Date.parse(change.at)).not.toBeNaN();
        expect(change.integration).toMatchObject({ name: 'mailchimp', status: 'DOWN' });
        expect(change.integration!.lastError!.code).toMatch(/^UPSTREAM_/);
      }
      // Only the named connection: Shopify's and the others' changes were not sent.
      expect(
        [...ws.received.results, ...sse.received.results].every(
          (r) => r.data?.integrationStatusChanged.name === 'mailchimp',
        ),
      ).toBe(true);
      // A key without monitoring:read has no stream to open.
      await refused.received.ended();
      expect(JSON.stringify(refused.received.error)).toContain('FORBIDDEN');
      expect(offMachine).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      stack.sandboxes.mailchimp.faults.set({});
      await Promise.all([ws.close(), sse.close(), refused.close()]);
      await close();
    }
  });

  it('should fall back to polling while the status stream cannot be opened', async () => {
    const { page, problems, close } = await openStatus({ width: 1280, height: 800 }, '?poll=1');
    try {
      // The stream is cut at the network: every attempt to open it fails.
      await page.route('**/graphql/stream', (route) => route.abort('connectionreset'));
      const polls: string[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/graphql') polls.push(request.url());
      });
      await paste(page, DEMO_API_KEYS.admin);
      await expect.poll(() => rowStatus(page, 'hubspot'), SETTLE).not.toBeNull();
      // Polling carries on at its own pace (every second here) while the page is not live.
      await expect.poll(() => polls.length, SETTLE).toBeGreaterThanOrEqual(3);
      expect(await page.evaluate(() => document.body.dataset['live'])).toBe('off');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('should be readable on a phone, one card per connection', async () => {
    const { page, problems, close } = await openStatus({ width: 390, height: 844 });
    try {
      await paste(page, DEMO_API_KEYS.admin);
      await expect.poll(() => rowStatus(page, 'hubspot'), SETTLE).not.toBeNull();
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        row: document.querySelector('tbody tr')!.getBoundingClientRect().width,
      }));
      expect(widths.page).toBeLessThanOrEqual(390); // no sideways scrolling
      expect(widths.row).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${SCREENSHOTS}/3-phone.png`, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('should show the refusal to a key without monitoring:read, and no data', async () => {
    const { page, close } = await openStatus({ width: 1280, height: 800 });
    try {
      await paste(page, DEMO_API_KEYS['reporting-dashboard']);
      await expect.poll(() => page.textContent('#summary'), SETTLE).toMatch(/^Refused: .*\(FORBIDDEN\)$/);
      expect(await page.evaluate(() => document.querySelectorAll('tbody tr').length)).toBe(0);
    } finally {
      await close();
    }
  });
});
