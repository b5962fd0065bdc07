// The functions given to page.evaluate run in the browser: this file alone may name the DOM.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { DEFAULT_HEADERS } from '../../gateway/explorer/page-config.js';
import { todayUtc } from '../../lib/dates.js';
import { exampleDateRange } from '../../lib/graphql/example-dates.js';
import { as } from '../helpers/clients.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * The explorer in a real browser (Debian's Chromium through playwright-core) against the whole
 * stack in process: paste a key, read the docs, run Profile, watch a subscription receive an event
 * from a signed webhook, and see why the schema is missing for a key without `schema:read`. Every
 * request that is not to this machine is blocked and recorded: none may be attempted (no CDN).
 * Screenshots go to test-output/explorer/; 4-live-event.png is the README's docs/images/explorer.png.
 */

const SCREENSHOTS = 'test-output/explorer';

/** Each CodeMirror by its place in GraphiQL 4's layout: the variables editor comes before the headers. */
const EDITOR = {
  query: '.graphiql-query-editor .CodeMirror',
  variables: '.graphiql-editor-tool > .graphiql-editor:nth-child(1) .CodeMirror',
  headers: '.graphiql-editor-tool > .graphiql-editor:nth-child(2) .CodeMirror',
  result: '.result-window .CodeMirror',
} as const;

/** How long the page may take to react (the machine is shared with the rest of the suite). */
const SETTLE = { timeout: 20_000, interval: 100 };

const LIVE_ORDERS = `subscription LiveOrders {
  events(types: [ORDER_PLACED]) {
    type
    source
    occurredAt
    properties
    customer {
      email
      lifecycleStage
    }
  }
}
`;

const PROFILE = `query Profile($email: String!) {
  customer(email: $email) {
    email
    firstName
    lifecycleStage
    ordersCount
    lifetimeValue {
      amount
      currency
    }
  }
}
`;

let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
});

/** What a page did that it must not: requests off the machine, CSP violations, uncaught errors. */
interface Trouble {
  offMachine: string[];
  cspViolations: string[];
  pageErrors: string[];
}

const isLocal = (url: URL) => url.hostname === '127.0.0.1' || ['data:', 'blob:'].includes(url.protocol);

async function openExplorer(url: string): Promise<{ page: Page; trouble: Trouble }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const trouble: Trouble = { offMachine: [], cspViolations: [], pageErrors: [] };
  await context.route('**/*', async (route) => {
    const target = new URL(route.request().url());
    if (isLocal(target)) return route.continue();
    trouble.offMachine.push(target.href);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(
    (target) => !isLocal(target),
    (socket) => {
      trouble.offMachine.push(socket.url());
      return socket.close();
    },
  );
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) trouble.cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => trouble.pageErrors.push(error.message));
  const response = await page.goto(url, { timeout: 60_000 });
  expect(response?.status()).toBe(200);
  await page.locator(EDITOR.query).waitFor();
  return { page, trouble };
}

function expectNoTrouble(trouble: Trouble): void {
  expect(trouble).toEqual({ offMachine: [], cspViolations: [], pageErrors: [] });
}

/** Replaces an editor's text the way a person pastes it, then checks CodeMirror holds exactly that. */
async function fill(page: Page, editor: 'query' | 'variables' | 'headers', text: string): Promise<void> {
  if (editor !== 'query') await showTool(page, editor);
  await page.locator(EDITOR[editor]).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  expect(await editorText(page, EDITOR[editor])).toBe(text);
}

/** Opens the Variables or Headers tab under the query editor and waits until its editor shows. */
async function showTool(page: Page, tool: 'variables' | 'headers'): Promise<void> {
  await page.locator(`.graphiql-editor-tools button[data-name="${tool}"]`).click();
  await page.locator(EDITOR[tool]).waitFor({ state: 'visible' });
}

function editorText(page: Page, selector: string): Promise<string> {
  return page.evaluate((s) => {
    const element = document.querySelector(s) as (Element & { CodeMirror?: { getValue(): string } }) | null;
    return element?.CodeMirror?.getValue() ?? '';
  }, selector);
}

/** The result pane's JSON once `ready` accepts it (the pane shows streamed results as they come). */
async function resultWhen<T>(page: Page, ready: (result: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await editorText(page, EDITOR.result);
    try {
      const parsed = JSON.parse(last) as T;
      if (ready(parsed)) return parsed;
    } catch {
      // not complete JSON yet
    }
    if (Date.now() > deadline) throw new Error(`the result pane never showed the expected result: ${last}`);
    await page.waitForTimeout(100);
  }
}

async function pasteKey(page: Page, key: string): Promise<void> {
  await fill(page, 'headers', `{"authorization": "Bearer ${key}"}`);
}

const run = (page: Page) => page.getByRole('button', { name: /^Execute query/ }).click();
const stop = (page: Page) => page.getByRole('button', { name: /^Stop query/ }).click();
const notice = (page: Page) => page.locator('.explorer-notice');
const schemaAccess = (page: Page) => page.locator('.explorer').getAttribute('data-schema-access');

/** Everything the page keeps in localStorage, by key. */
function storedValues(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() =>
    Object.fromEntries(Object.keys(localStorage).map((key) => [key, localStorage.getItem(key) ?? ''])),
  );
}

const tabTitles = (page: Page) => page.locator('[id^="graphiql-session-tab-"]').allTextContents();

interface CustomersResult {
  data?: { customers: { edges: unknown[] } };
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function untilSubscribers(stack: Stack, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (stack.gateway.events.hub.subscriberCount !== count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} subscribers, have ${stack.gateway.events.hub.subscriberCount}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ProfileResult {
  data?: { customer: { email: string; lifecycleStage: string } | null };
  errors?: { message: string; extensions?: { code?: string } }[];
}

describe('the explorer with the demo keys (development mode: any valid key reads the schema)', () => {
  let stack: Stack;
  let page: Page;
  let trouble: Trouble;
  let shopper: { email: string };

  beforeAll(async () => {
    stack = await startTestStack({ customers: 60 });
    shopper = stack.world.customers.find((c) => c.shop && c.audience)!.person;
    // The first request builds the bundle when the checkout has none (a fresh clone).
    const warm = await fetch(`${stack.origins.gateway}/explorer`);
    expect(warm.status).toBe(200);
    ({ page, trouble } = await openExplorer(`${stack.origins.gateway}/graphql`));
  }, 180_000);
  afterAll(async () => {
    await page?.context().close();
    await stack?.close();
  });

  it('should serve the explorer to a browser opening /graphql and ask for a key before anything else', async () => {
    await expect.poll(() => schemaAccess(page), SETTLE).toBe('no-key');
    expect(await notice(page).getAttribute('data-access')).toBe('no-key');
    expect(await notice(page).textContent()).toContain('Paste an API key');
    expect(await editorText(page, EDITOR.headers)).toBe('{"authorization": "Bearer <paste a key>"}');
    await expect
      .poll(() => page.locator('.explorer-example[data-operation="Profile"]').isVisible(), SETTLE)
      .toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, '1-no-key.png') });
    expectNoTrouble(trouble);
  });

  it('should load the schema with the admin demo key and show the descriptions in the docs pane', async () => {
    await pasteKey(page, DEMO_API_KEYS.admin);
    await expect.poll(() => schemaAccess(page), SETTLE).toBe('readable');
    expect(await notice(page).count()).toBe(0);

    const { body } = await graphql<{ __type: { fields: { name: string; description: string }[] } }>(
      stack.gatewayUrl,
      '{ __type(name: "Query") { fields { name description } } }',
      {},
      as('admin'),
    );
    const description = body.data!.__type.fields.find((f) => f.name === 'customer')!.description;
    const opening = description.split(/\s+/).slice(0, 6).join(' ');
    expect(opening.length).toBeGreaterThan(10);

    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'Query', exact: true }).click();
    await expect
      .poll(
        async () => (await page.locator('.graphiql-doc-explorer').textContent())?.replace(/\s+/g, ' '),
        SETTLE,
      )
      .toContain(opening);
    await page.screenshot({ path: join(SCREENSHOTS, '2-docs.png') });
    expectNoTrouble(trouble);
  });

  it('should run Profile from the query editor and show the customer in the result pane', async () => {
    await fill(page, 'query', PROFILE);
    await fill(page, 'variables', JSON.stringify({ email: shopper.email }));
    await run(page);
    const result = await resultWhen<ProfileResult>(page, (r) => r.data !== undefined || !!r.errors);
    expect(result.errors).toBeUndefined();
    expect(result.data?.customer?.email).toBe(shopper.email);
    expect(result.data?.customer?.lifecycleStage).toMatch(/^[A-Z_]+$/);
    await page.screenshot({ path: join(SCREENSHOTS, '3-profile.png') });
    expectNoTrouble(trouble);
  });

  it('should stream an events subscription over graphql-ws and show a signed webhook arriving as an event', async () => {
    await fill(page, 'query', LIVE_ORDERS);
    await fill(page, 'variables', '');
    await run(page);
    await untilSubscribers(stack, 1);

    const order = shopifyOrder({ email: shopper.email, totalPrice: '318.40' });
    const ack = await postWebhook(stack.origins.gateway, order);
    expect(ack).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });

    const result = await resultWhen<{
      data?: {
        events: {
          type: string;
          source: string;
          properties: { totalPrice: string };
          customer: { email: string };
        };
      };
    }>(page, (r) => r.data?.events !== undefined);
    expect(result.data?.events).toMatchObject({
      type: 'ORDER_PLACED',
      source: 'SHOPIFY',
      properties: { totalPrice: '318.40' },
      customer: { email: shopper.email },
    });
    // For the picture in the README: the Examples pane, and the key in the Headers tab.
    await page.getByRole('button', { name: 'Show Examples' }).click();
    await showTool(page, 'headers');
    await page.locator(EDITOR.headers).click();
    await page.keyboard.press('Control+Home');
    await page.screenshot({ path: join(SCREENSHOTS, '4-live-event.png') });

    await stop(page);
    await untilSubscribers(stack, 0);
    expectNoTrouble(trouble);
  });

  it('should open an example operation from the Examples pane into the query editor', async () => {
    await page.locator('.explorer-example[data-operation="Profile"]').click();
    const text = await editorText(page, EDITOR.query);
    expect(text).toMatch(/query Profile\(\$email: String!\)/);
    expect(JSON.parse(await editorText(page, EDITOR.variables))).toHaveProperty('email');
    expectNoTrouble(trouble);
  });

  it('should run the first tab of a first visit as it opens, with the example variables in the editor', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    try {
      expect(await editorText(page, EDITOR.query)).toMatch(/query Customers\(/);
      await showTool(page, 'variables');
      expect(JSON.parse(await editorText(page, EDITOR.variables))).toEqual({ first: 5 });
      await pasteKey(page, DEMO_API_KEYS.admin);
      await run(page);
      const result = await resultWhen<CustomersResult>(page, (r) => r.data !== undefined || !!r.errors);
      expect(result.errors).toBeUndefined();
      expect(result.data?.customers.edges).toHaveLength(5);
      expectNoTrouble(trouble);
    } finally {
      await page.context().close();
    }
  });

  it('should clear a 401 from the result pane once a key is pasted into Headers', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    try {
      await run(page);
      const refused = await resultWhen<CustomersResult>(page, (r) => !!r.errors);
      expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await pasteKey(page, DEMO_API_KEYS.admin);
      await expect.poll(() => editorText(page, EDITOR.result), SETTLE).toBe('');
      await run(page);
      const result = await resultWhen<CustomersResult>(page, (r) => r.data !== undefined || !!r.errors);
      expect(result.errors).toBeUndefined();
      expectNoTrouble(trouble);
    } finally {
      await page.context().close();
    }
  });

  it('should keep the key out of localStorage after it is entered and operations run', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    try {
      const key = DEMO_API_KEYS.admin;
      await pasteKey(page, key);
      await fill(page, 'query', PROFILE);
      await fill(page, 'variables', JSON.stringify({ email: shopper.email }));
      await run(page);
      const result = await resultWhen<ProfileResult>(page, (r) => r.data !== undefined || !!r.errors);
      expect(result.data?.customer?.email).toBe(shopper.email);
      // The history and the tabs are written after a run (the tabs with a 500 ms debounce).
      await expect
        .poll(async () => (await storedValues(page))['graphiql:queries'] ?? '', SETTLE)
        .toContain('query Profile');
      await expect
        .poll(async () => (await storedValues(page))['graphiql:tabState'] ?? '', SETTLE)
        .toContain('query Profile');
      const secret = key.split('_').at(-1)!;
      const holding = Object.entries(await storedValues(page)).filter(([, value]) => value.includes(secret));
      expect(holding.map(([name]) => name)).toEqual([]);

      await page.reload();
      await page.locator(EDITOR.query).waitFor();
      await showTool(page, 'headers');
      expect(await editorText(page, EDITOR.headers)).toBe(DEFAULT_HEADERS);
      expectNoTrouble(trouble);
    } finally {
      await page.context().close();
    }
  });

  it('should open the same single tab after a reload, not a copy of the starting tab', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    try {
      expect(await tabTitles(page)).toEqual(['Customers']);
      // Past the 500 ms in which GraphiQL stores its tabs.
      await expect
        .poll(async () => (await storedValues(page))['graphiql:tabState'] ?? '', SETTLE)
        .toContain('Customers');
      for (const _reload of [1, 2]) {
        await page.reload();
        await page.locator(EDITOR.query).waitFor();
        expect(await tabTitles(page)).toEqual(['Customers']);
      }
      expect(await editorText(page, EDITOR.query)).toMatch(/query Customers\(/);
      await showTool(page, 'variables');
      expect(JSON.parse(await editorText(page, EDITOR.variables))).toEqual({ first: 5 });
      expectNoTrouble(trouble);
    } finally {
      await page.context().close();
    }
  });

  it('should fill the Dashboard example with the last 30 days up to today, and run it', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    try {
      await pasteKey(page, DEMO_API_KEYS['reporting-dashboard']);
      await page.locator('.explorer-example[data-operation="Dashboard"]').click();
      await showTool(page, 'variables');
      expect(JSON.parse(await editorText(page, EDITOR.variables))).toEqual(exampleDateRange(todayUtc()));
      await run(page);
      const result = await resultWhen<{ data?: { campaignPerformance: unknown[] }; errors?: unknown[] }>(
        page,
        (r) => r.data !== undefined || !!r.errors,
      );
      expect(result.errors).toBeUndefined();
      expect(Array.isArray(result.data?.campaignPerformance)).toBe(true);
      expectNoTrouble(trouble);
    } finally {
      await page.context().close();
    }
  });

  it('should serve the page with a strict CSP and content-hashed assets, and leave GraphQL GETs to GraphQL clients', async () => {
    const origin = stack.origins.gateway;
    const page = await fetch(`${origin}/explorer`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const revalidated = await fetch(`${origin}/explorer`, {
      headers: { 'if-none-match': page.headers.get('etag') ?? '' },
    });
    expect(revalidated.status).toBe(304);

    const script = /src="(\/explorer\/assets\/explorer-\w+\.js)"/.exec(await page.text())?.[1];
    const bundle = await fetch(`${origin}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('content-encoding')).toBe('gzip');
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${origin}/explorer/assets/explorer-NOPE.js`)).status).toBe(404);
    expect((await fetch(`${origin}/explorer`, { method: 'POST' })).status).toBe(405);

    const curl = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: '*/*', 'apollo-require-preflight': 'true', ...as('admin') },
    });
    expect(curl.headers.get('content-type')).toMatch(/json/);
    expect(await curl.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('the explorer in production mode (introspection needs schema:read)', () => {
  let stack: Stack;
  let keys: Record<string, string[]>;
  let customerEmail: string;

  beforeAll(async () => {
    const registry = writeTestRegistry([
      { id: 'analyst', scopes: ['crm:read', 'pii:read', 'email:read', 'commerce:read'] },
      { id: 'operator', scopes: ['crm:read', 'pii:read', 'schema:read'] },
    ]);
    keys = registry.keys;
    stack = await startTestStack({ customers: 60, mode: 'production', clientsFile: registry.clientsFile });
    customerEmail = stack.world.customers[0]!.person.email;
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('should say why there is no schema for a key without schema:read, and still run its queries', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    await pasteKey(page, keys['analyst']![0]!);
    await expect.poll(() => schemaAccess(page), SETTLE).toBe('schema-forbidden');
    expect(await notice(page).textContent()).toContain(
      'Your key may not read the schema (needs schema:read) — queries still run.',
    );

    await fill(page, 'query', PROFILE);
    await fill(page, 'variables', JSON.stringify({ email: customerEmail }));
    await run(page);
    const result = await resultWhen<ProfileResult>(page, (r) => r.data !== undefined || !!r.errors);
    expect(result.errors).toBeUndefined();
    expect(result.data?.customer?.email).toBe(customerEmail);
    await page.screenshot({ path: join(SCREENSHOTS, '5-no-schema-read.png') });
    expectNoTrouble(trouble);
    await page.context().close();
  });

  it('should load the schema for a key with schema:read and say so when a key is refused', async () => {
    const { page, trouble } = await openExplorer(`${stack.origins.gateway}/explorer`);
    await pasteKey(page, keys['operator']![0]!);
    await expect.poll(() => schemaAccess(page), SETTLE).toBe('readable');
    expect(await notice(page).count()).toBe(0);

    await pasteKey(page, 'mgk_aaaaaaaaaaaa_not-a-real-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaa');
    await expect.poll(() => schemaAccess(page), SETTLE).toBe('key-refused');
    expect(await notice(page).textContent()).toContain('The gateway refused this key (401).');
    await page.screenshot({ path: join(SCREENSHOTS, '6-key-refused.png') });
    expectNoTrouble(trouble);
    await page.context().close();
  });
});
