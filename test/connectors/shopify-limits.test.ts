import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import { SHOPIFY_DEFAULT_LIMITS } from '../../platforms/shopify/client/limits.js';
import { UpstreamError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { sandboxBaseUrl } from '../../sandboxes/registry.js';
import { createShopifySandbox } from '../../platforms/shopify/sandbox/index.js';
import { generateWorld, type World } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const SHOP = 'GET /admin/api/{version}/shop.json';
const TOKEN = DEMO_CREDENTIALS.shopify.accessToken;

/** What one call ended with: the shop, or the error's code and upstream code. */
type Outcome = { ok: true } | { ok: false; code: unknown; upstreamCode: unknown };

async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return { ok: true };
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    return { ok: false, code: error.extensions['code'], upstreamCode: error.extensions['upstreamCode'] };
  }
}

describe('Shopify connector limits: leaky bucket throttle and circuit breaker', () => {
  let world: World;
  const cleanups: (() => Promise<void>)[] = [];
  const connect = (
    sandbox: { baseUrl: string },
    overrides: Partial<ConstructorParameters<typeof ShopifyConnector>[0]> = {},
  ) => {
    const connector = new ShopifyConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: TOKEN,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
    cleanups.push(() => connector.close());
    return connector;
  };
  /** A sandbox with its own, empty bucket: every test starts from a bucket no one has used. */
  const fresh = async (): Promise<RunningSandbox> => {
    const sandbox = await startSandbox('shopify', { world });
    cleanups.push(() => sandbox.close());
    return sandbox;
  };

  beforeAll(() => {
    world = generateWorld({ seed: 7, customers: 50, anchorDate: TEST_ANCHOR_DATE });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('should queue a burst above the bucket so that every call succeeds without a single 429', async () => {
    const sandbox = await fresh();
    const shopify = connect(sandbox);
    // Four calls more than the bucket holds: they wait for the leak (2 per second) instead of failing.
    const burst = SHOPIFY_DEFAULT_LIMITS.bucketSize + 4;
    const outcomes = await Promise.all(
      Array.from({ length: burst }, () => outcome(shopify.getShop(testRequest()))),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(burst);
    expect((await sandbox.stats()).endpoints[SHOP]?.statuses).toEqual({ '200': burst });
  });

  it('should fail the calls a short deadline cannot wait for with CLIENT_THROTTLE, and still cause no 429', async () => {
    const sandbox = await fresh();
    const shopify = connect(sandbox);
    const burst = 150;
    const outcomes = await Promise.all(
      Array.from({ length: burst }, () => outcome(shopify.getShop(testRequest(1_500)))),
    );
    const succeeded = outcomes.filter((o) => o.ok).length;
    const throttled = outcomes.filter(
      (o) => !o.ok && o.code === 'UPSTREAM_RATE_LIMITED' && o.upstreamCode === 'CLIENT_THROTTLE',
    ).length;
    expect(succeeded).toBeGreaterThanOrEqual(SHOPIFY_DEFAULT_LIMITS.bucketSize);
    expect(succeeded + throttled).toBe(burst);
    expect(throttled).toBeGreaterThan(0);
    expect((await sandbox.stats()).endpoints[SHOP]?.statuses).toEqual({ '200': succeeded });
  });

  it('should learn a smaller bucket from X-Shopify-Shop-Api-Call-Limit: 429s in the first burst only', async () => {
    // The store's bucket is a quarter of what the connector was told; both leak 10 per second.
    const platform = createShopifySandbox({ world, accessToken: TOKEN, bucketSize: 10, leakPerSecond: 10 });
    const server = createSandboxServer(platform, { logger: silentLogger });
    const listening = await listen(server.server, 0, '127.0.0.1');
    cleanups.push(listening.close);
    const shopify = connect(
      { baseUrl: sandboxBaseUrl('shopify', listening.origin) },
      { limits: { bucketSize: 40, leakPerSecond: 10 } },
    );
    const rejected = () => server.stats.snapshot().endpoints[SHOP]?.statuses['429'] ?? 0;

    const first = await Promise.all(
      Array.from({ length: 20 }, () => outcome(shopify.getShop(testRequest()))),
    );
    expect(first.every((o) => o.ok)).toBe(true);
    const firstBurst429s = rejected();
    expect(firstBurst429s).toBeGreaterThan(0);

    const second = await Promise.all(
      Array.from({ length: 25 }, () => outcome(shopify.getShop(testRequest()))),
    );
    expect(second.every((o) => o.ok)).toBe(true);
    expect(rejected()).toBe(firstBurst429s);
    expect(server.stats.snapshot().endpoints[SHOP]?.statuses['200']).toBe(45);
  });

  it('should open the breaker after five failures in a row and then fail without calling Shopify', async () => {
    const sandbox = await fresh();
    const lines: string[] = [];
    const logger = createLogger({
      name: 'test',
      level: 'warn',
      destination: { write: (line) => lines.push(line) },
    });
    const shopify = connect(sandbox, { maxRetries: 0, logger });
    await sandbox.setFaults({ errorRate: 1, errorStatus: 500, endpoints: [SHOP] });

    const before = await Promise.all(
      Array.from({ length: 5 }, () => outcome(shopify.getShop(testRequest()))),
    );
    expect(before).toEqual(
      Array.from({ length: 5 }, () => ({ ok: false, code: 'UPSTREAM_ERROR', upstreamCode: undefined })),
    );
    expect((await sandbox.stats()).endpoints[SHOP]?.count).toBe(5);

    const after = await Promise.all(Array.from({ length: 3 }, () => outcome(shopify.getShop(testRequest()))));
    expect(after).toEqual(
      Array.from({ length: 3 }, () => ({
        ok: false,
        code: 'UPSTREAM_UNAVAILABLE',
        upstreamCode: 'CIRCUIT_OPEN',
      })),
    );
    expect((await sandbox.stats()).endpoints[SHOP]?.count).toBe(5);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ platform: 'shopify', msg: 'circuit breaker opened' }),
    );
  });
});
