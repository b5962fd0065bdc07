import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MetaConnector, type DayRange, type MetaSettings } from '../../platforms/meta/client/connector.js';
import { MetaInsightsThrottle } from '../../platforms/meta/client/limits.js';
import { readInsightsUsage } from '../../platforms/meta/client/usage.js';
import { RecordCache, type RecordTtls } from '../../lib/cache/record-cache.js';
import { createCacheStore, type CacheStore } from '../../lib/cache/store.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import type { EndpointStats } from '../../sandboxes/kit/stats.js';
import { createMetaSandbox } from '../../platforms/meta/sandbox/index.js';
import { generateWorld, type World } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { failureOf } from '../helpers/failures.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const INSIGHTS = 'GET /{version}/act_{adAccountId}/insights';
const ACCOUNT = 'GET /{version}/act_{adAccountId}';
const CAMPAIGNS = 'GET /{version}/act_{adAccountId}/campaigns';
const { accessToken, adAccountId } = DEMO_CREDENTIALS.meta;
const TTLS: RecordTtls = { profile: 300, subscription: 300, orders: 120, campaignReports: 600 };

/** A week starting `offset` days into the world's window: distinct ranges are distinct listings. */
const week = (world: World, offset: number): DayRange => {
  const since = addDays(world.windowStart, offset);
  return { since, until: addDays(since, 6) };
};

/** The `i`th of up to 240 different ranges inside the window (a burst must not share listings). */
const nthRange = (world: World, i: number): DayRange => {
  const since = addDays(world.windowStart, i % 80);
  return { since, until: addDays(since, 6 + Math.floor(i / 80)) };
};

/** Campaigns with delivery in a range, from the world: the rows one listing of it answers. */
const rowsIn = (world: World, range: DayRange) =>
  world.adCampaigns.filter((c) =>
    c.daily.some((d) => d.date >= range.since && d.date <= range.until && d.impressions > 0),
  ).length;

/** A Meta sandbox whose hourly insights budget is `callsPerHour`, with direct access to its counters. */
async function budgetSandbox(callsPerHour: number) {
  const world = generateWorld({ seed: 7, customers: 20, anchorDate: TEST_ANCHOR_DATE });
  const built = createSandboxServer(createMetaSandbox({ world, accessToken, adAccountId, callsPerHour }), {
    logger: silentLogger,
  });
  const listening = await listen(built.server, 0, '127.0.0.1');
  return {
    world,
    origin: listening.origin,
    baseUrl: `${listening.origin}/v25.0`,
    insights: (): EndpointStats | undefined => built.stats.snapshot().endpoints[INSIGHTS],
    close: listening.close,
  };
}

describe('Meta insights usage headers', () => {
  it('should take the highest insights share of our account and the minutes until access returns', () => {
    const usage = readInsightsUsage(
      {
        'x-business-use-case-usage': JSON.stringify({
          [adAccountId]: [
            { type: 'ads_insights', call_count: 12, total_cputime: 41, total_time: 30 },
            { type: 'ads_management', call_count: 99, estimated_time_to_regain_access: 30 },
          ],
          '999': [{ type: 'ads_insights', call_count: 100, estimated_time_to_regain_access: 60 }],
        }),
        'x-fb-ads-insights-throttle': JSON.stringify({ app_id_util_pct: 90, acc_id_util_pct: 37 }),
      },
      adAccountId,
    );
    expect(usage).toEqual({ percent: 41, regainAccessMs: 0 });
  });

  it('should say nothing when the headers are absent or not JSON', () => {
    expect(readInsightsUsage({}, adAccountId)).toBeUndefined();
    expect(readInsightsUsage({ 'x-business-use-case-usage': '{not json' }, adAccountId)).toBeUndefined();
  });
});

describe('the Meta insights throttle', () => {
  const insightsCall = {
    method: 'GET' as const,
    endpoint: 'GET /act_{adAccountId}/insights',
    path: `/act_${adAccountId}/insights`,
  };
  const usageHeaders = (callCount: number, minutes: number) => ({
    'x-business-use-case-usage': JSON.stringify({
      [adAccountId]: [
        { type: 'ads_insights', call_count: callCount, estimated_time_to_regain_access: minutes },
      ],
    }),
  });

  it('should hold every insights call for the minutes Meta says access takes to come back', async () => {
    const throttle = new MetaInsightsThrottle({ insightsPerHour: 600 }, adAccountId);
    await throttle.acquire(insightsCall, Date.now() + 2_000);
    throttle.release(insightsCall, { status: 400, headers: usageHeaders(10, 5) });
    // 10 % of 600 leaves room in the window: only the block holds the next call back.
    expect(throttle.policy.used).toBe(60);
    const error = await failureOf(throttle.acquire(insightsCall, Date.now() + 2_000));
    expect(error.extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      upstreamCode: 'CLIENT_THROTTLE',
    });
    expect(error.details.retryAfterSeconds).toBeGreaterThan(290);
    expect(error.details.retryAfterSeconds).toBeLessThanOrEqual(300);
  });

  it('should let calls other than insights through whatever the insights budget says', async () => {
    const throttle = new MetaInsightsThrottle({ insightsPerHour: 1 }, adAccountId);
    throttle.throttled({ code: 80000, subcode: 2446079 }, {});
    const account = {
      method: 'GET' as const,
      endpoint: 'GET /act_{adAccountId}',
      path: `/act_${adAccountId}`,
    };
    await expect(throttle.acquire(account, Date.now() + 1_000)).resolves.toBeUndefined();
    await expect(failureOf(throttle.acquire(insightsCall, Date.now() + 1_000))).resolves.toMatchObject({
      extensions: { upstreamCode: 'CLIENT_THROTTLE' },
    });
  });

  it("should leave the insights budget alone when Meta refuses under ads management's own limit", async () => {
    const throttle = new MetaInsightsThrottle({ insightsPerHour: 600 }, adAccountId);
    throttle.throttled({ code: 80004, subcode: undefined }, {});
    expect(throttle.policy.used).toBe(0);
    throttle.throttled({ code: 17, subcode: 2446079 }, {});
    expect(throttle.policy.used).toBe(600);
  });
});

describe('the Meta connector within the hourly insights budget', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0).reverse()) await item.close();
  });
  const connect = (baseUrl: string, overrides: Partial<MetaSettings> = {}) => {
    const meta = new MetaConnector({
      baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
    opened.push(meta);
    return meta;
  };

  it('should hold a burst of 100 reads against a budget of 10 to zero refusals from Meta, failing the rest fast with CLIENT_THROTTLE', async () => {
    const sandbox = await budgetSandbox(10);
    opened.push(sandbox);
    const meta = connect(sandbox.baseUrl, { limits: { insightsPerHour: 10 } });
    const budgetMs = 2_000;
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        meta.campaignInsights(testRequest(budgetMs), nthRange(sandbox.world, i)).then(
          (rows) => ({ rows }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    const failures = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
    expect(outcomes.length - failures.length).toBe(10);
    expect(failures).toHaveLength(90);
    for (const error of failures) {
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).extensions).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        platform: 'meta',
        upstreamCode: 'CLIENT_THROTTLE',
      });
      // It failed because the wait would pass the deadline, not because it waited until then.
      expect((error as UpstreamError).details.retryAfterSeconds).toBeGreaterThan(budgetMs / 1000);
    }
    expect(sandbox.insights()).toEqual({ count: 10, statuses: { '200': 10 } });
  });

  it('should catch up with a smaller real budget from the usage headers and stop before Meta refuses', async () => {
    const sandbox = await budgetSandbox(10);
    opened.push(sandbox);
    const throttle = new MetaInsightsThrottle({ insightsPerHour: 600 }, adAccountId);
    const meta = connect(sandbox.baseUrl, { throttle });
    for (let i = 0; i < 4; i++) await meta.campaignInsights(testRequest(), week(sandbox.world, i));
    // Meta said 40 % of the budget is spent: 40 % of what the connector believes is 240 calls.
    expect(throttle.policy.used).toBe(240);
    const outcomes: string[] = [];
    for (let i = 4; i < 14; i++) {
      outcomes.push(
        await meta.campaignInsights(testRequest(), week(sandbox.world, i)).then(
          () => 'ok',
          (error: unknown) =>
            error instanceof UpstreamError ? String(error.extensions['upstreamCode']) : 'other',
        ),
      );
    }
    expect(outcomes).toEqual([...Array<string>(6).fill('ok'), ...Array<string>(4).fill('CLIENT_THROTTLE')]);
    expect(sandbox.insights()).toEqual({ count: 10, statuses: { '200': 10 } });
    // Only insights spend the insights budget: the account and its campaigns still answer.
    expect(await meta.accountCurrency(testRequest())).toBe('USD');
    expect(await meta.listCampaigns(testRequest())).toHaveLength(sandbox.world.adCampaigns.length);
  });

  it('should stop calling after the first refusal when another app spent the budget', async () => {
    const sandbox = await budgetSandbox(5);
    opened.push(sandbox);
    const url = `${sandbox.baseUrl}/act_${adAccountId}/insights?level=campaign&date_preset=last_7d`;
    for (let i = 0; i < 5; i++)
      await (await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } })).arrayBuffer();
    const meta = connect(sandbox.baseUrl);
    const codes: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const error = await failureOf(meta.campaignInsights(testRequest(), week(sandbox.world, i)));
      expect(error.extensions).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', platform: 'meta' });
      codes.push(error.extensions['upstreamCode']);
    }
    expect(codes).toEqual(['80000/2446079', 'CLIENT_THROTTLE', 'CLIENT_THROTTLE', 'CLIENT_THROTTLE']);
    expect(sandbox.insights()).toEqual({ count: 6, statuses: { '200': 5, '400': 1 } });
  });

  it('should take a throttling error without usage headers as the budget spent and not retry into it', async () => {
    const sandbox = await startSandbox('meta', { customers: 20, rateLimits: false });
    opened.push(sandbox);
    await sandbox.setFaults({ rateLimitRate: 1, remaining: 1, endpoints: [INSIGHTS] });
    const meta = connect(sandbox.baseUrl);
    const first = await failureOf(meta.campaignInsights(testRequest(), week(sandbox.world, 0)));
    const second = await failureOf(meta.campaignInsights(testRequest(), week(sandbox.world, 1)));
    for (const error of [first, second])
      expect(error.extensions).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        upstreamCode: 'CLIENT_THROTTLE',
      });
    expect((await sandbox.stats()).endpoints[INSIGHTS]).toEqual({ count: 1, statuses: { '400': 1 } });
  });
});

describe('the Meta connector with a record cache', () => {
  let sandbox: RunningSandbox;
  let store: CacheStore;
  const opened: MetaConnector[] = [];
  const connect = (overrides: Partial<MetaSettings> = {}, ttls: RecordTtls = TTLS) => {
    const meta = new MetaConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 0,
      cache: new RecordCache(store, 'meta', adAccountId, ttls),
      ...overrides,
    });
    opened.push(meta);
    return meta;
  };
  const insightsCalls = async () => (await sandbox.stats()).endpoints[INSIGHTS]?.count ?? 0;

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    store = createCacheStore({ maxEntries: 1_000, logger: silentLogger });
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });
  afterEach(async () => {
    for (const meta of opened.splice(0)) await meta.close();
    await store.close();
  });

  it('should answer a second read of a range from the cache without calling Meta', async () => {
    const meta = connect();
    const range = week(sandbox.world, 40);
    const cold = await meta.campaignInsights(testRequest(), range);
    expect(cold).toHaveLength(rowsIn(sandbox.world, range));
    expect(await meta.campaignInsights(testRequest(), range)).toEqual(cold);
    expect(await insightsCalls()).toBe(1);
  });

  it('should share cached insights and the currency with another connector on the same store', async () => {
    const range = week(sandbox.world, 41);
    const first = connect();
    const rows = await first.campaignInsights(testRequest(), range);
    expect(await first.accountCurrency(testRequest())).toBe('USD');
    const second = connect();
    expect(await second.campaignInsights(testRequest(), range)).toEqual(rows);
    expect(await second.accountCurrency(testRequest())).toBe('USD');
    const stats = await sandbox.stats();
    expect(stats.endpoints[INSIGHTS]?.count).toBe(1);
    expect(stats.endpoints[ACCOUNT]?.count).toBe(1);
  });

  it('should go back to Meta for a range after invalidateRange, and only for that range', async () => {
    const meta = connect();
    const range = week(sandbox.world, 42);
    const other = week(sandbox.world, 43);
    await meta.campaignInsights(testRequest(), range);
    await meta.campaignInsights(testRequest(), other);
    await meta.invalidateRange(range.since, range.until);
    await meta.campaignInsights(testRequest(), range);
    await meta.campaignInsights(testRequest(), other);
    expect(await insightsCalls()).toBe(3);
  });

  it('should read a range again once its entry has expired', async () => {
    const meta = connect({}, { ...TTLS, campaignReports: 1 });
    const range = week(sandbox.world, 44);
    await meta.campaignInsights(testRequest(), range);
    await meta.campaignInsights(testRequest(), range);
    expect(await insightsCalls()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await meta.campaignInsights(testRequest(), range);
    expect(await insightsCalls()).toBe(2);
  });

  it('should not cache a failure: the read after an injected 500 goes to Meta, and the one after that does not', async () => {
    await sandbox.setFaults({ errorRate: 1, errorStatus: 500, remaining: 1, endpoints: [INSIGHTS] });
    const meta = connect();
    const range = week(sandbox.world, 45);
    const error = await failureOf(meta.campaignInsights(testRequest(), range));
    expect(error.extensions).toMatchObject({ platform: 'meta', upstreamStatus: 500 });
    const rows = await meta.campaignInsights(testRequest(), range);
    expect(rows).toHaveLength(rowsIn(sandbox.world, range));
    expect(await meta.campaignInsights(testRequest(), range)).toEqual(rows);
    expect((await sandbox.stats()).endpoints[INSIGHTS]).toEqual({
      count: 2,
      statuses: { '200': 1, '500': 1 },
    });
  });

  it('should let concurrent cold reads of one range share a single listing', async () => {
    const meta = connect({ pageSize: 4 });
    const range = week(sandbox.world, 46);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => meta.campaignInsights(testRequest(), range)),
    );
    for (const rows of results) expect(rows).toEqual(results[0]);
    expect(await insightsCalls()).toBe(Math.max(1, Math.ceil(rowsIn(sandbox.world, range) / 4)));
  });
});

describe('the Meta circuit breaker', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('should stop calling Meta after 5 consecutive failures and answer CIRCUIT_OPEN, cached ranges still served', async () => {
    const store = createCacheStore({ maxEntries: 100, logger: silentLogger });
    const meta = new MetaConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 0,
      cache: new RecordCache(store, 'meta', adAccountId, TTLS),
    });
    try {
      const cachedRange = week(sandbox.world, 50);
      const rows = await meta.campaignInsights(testRequest(), cachedRange);
      await sandbox.resetStats();
      await sandbox.setFaults({ errorRate: 1, errorStatus: 500 });
      for (let i = 0; i < 5; i++) {
        const error = await failureOf(meta.campaignInsights(testRequest(), week(sandbox.world, i)));
        expect(error.extensions).toMatchObject({ code: 'UPSTREAM_ERROR', upstreamStatus: 500 });
      }
      expect((await sandbox.stats()).total).toBe(5);
      for (let i = 5; i < 8; i++) {
        const error = await failureOf(meta.campaignInsights(testRequest(), week(sandbox.world, i)));
        expect(error.extensions).toMatchObject({
          code: 'UPSTREAM_UNAVAILABLE',
          platform: 'meta',
          upstreamCode: 'CIRCUIT_OPEN',
        });
      }
      const currency = await failureOf(meta.accountCurrency(testRequest()));
      expect(currency.extensions['upstreamCode']).toBe('CIRCUIT_OPEN');
      expect((await sandbox.stats()).total).toBe(5);
      expect(await meta.campaignInsights(testRequest(), cachedRange)).toEqual(rows);
    } finally {
      await sandbox.setFaults({});
      await meta.close();
      await store.close();
    }
  });

  it('should use the breaker it is given instead of its own', async () => {
    await sandbox.resetStats();
    const checks: string[] = [];
    const meta = new MetaConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 0,
      guard: {
        check: () => {
          checks.push('check');
        },
        recordSuccess: () => {
          checks.push('success');
        },
        recordFailure: () => {
          checks.push('failure');
        },
      },
    });
    try {
      await meta.listCampaigns(testRequest());
      expect(checks).toEqual(['check', 'success']);
      expect((await sandbox.stats()).endpoints[CAMPAIGNS]?.count).toBe(1);
    } finally {
      await meta.close();
    }
  });
});
