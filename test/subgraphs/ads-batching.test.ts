import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MetaConnector, type DayRange } from '../../platforms/meta/client/connector.js';
import { RecordCache, type RecordTtls } from '../../lib/cache/record-cache.js';
import { createCacheStore, type CacheStore } from '../../lib/cache/store.js';
import { addDays } from '../../lib/dates.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { AD_ACCOUNT_CURRENCY, generateWorld, type World } from '../../sandboxes/world/world.js';
import { buildAdsSubgraph } from '../../subgraphs/ads/index.js';
import { createAdsLoaders, type KeyInRange } from '../../subgraphs/ads/loaders.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

const INSIGHTS = 'GET /{version}/act_{adAccountId}/insights';
const { accessToken, adAccountId } = DEMO_CREDENTIALS.meta;
const TTLS: RecordTtls = { profile: 300, subscription: 300, orders: 120, campaignReports: 600 };
const dollars = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** Campaigns with delivery in a range: the rows of its listing. */
const deliveredIn = (world: World, range: DayRange) =>
  world.adCampaigns.filter((c) =>
    c.daily.some((d) => d.date >= range.since && d.date <= range.until && d.impressions > 0),
  );

/** What a key's ads over a range add up to, from the world; null when none of its campaigns delivered. */
function expectedPerformance(world: World, key: string, range: DayRange) {
  const campaigns = deliveredIn(world, range).filter((c) => c.key === key);
  if (campaigns.length === 0) return null;
  const days = campaigns.flatMap((c) =>
    c.daily.filter((d) => d.date >= range.since && d.date <= range.until),
  );
  const total = (metric: 'impressions' | 'clicks' | 'spendCents' | 'purchases') =>
    days.reduce((sum, d) => sum + d[metric], 0);
  return {
    key,
    since: range.since,
    until: range.until,
    ads: {
      impressions: total('impressions'),
      clicks: total('clicks'),
      conversions: total('purchases'),
      spend: { amount: dollars(total('spendCents')), currency: AD_ACCOUNT_CURRENCY },
    },
  };
}

/** A fixed shuffle, so the order asked is neither the world's nor sorted. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The world the sandbox serves, known up front so test names can state the expected counts. */
const world = generateWorld({ seed: 7, customers: 20, anchorDate: TEST_ANCHOR_DATE });
/** A small page so the listing of a range takes several calls, as a big account's would. */
const PAGE_SIZE = 4;

/** `n` keys over three ranges: every real key in each range, the rest keys Meta has never seen. */
const askFor = (n: number): KeyInRange[] => {
  const until = world.options.anchorDate;
  const ranges: DayRange[] = [
    { since: world.windowStart, until },
    { since: addDays(until, -29), until },
    { since: addDays(world.windowStart, 10), until: addDays(world.windowStart, 40) },
  ];
  const real = ranges.flatMap((range) => world.campaigns.map((c) => ({ key: c.key, range })));
  const made = Array.from({ length: n - real.length }, (_, i) => ({
    key: `no-such-campaign-${i}`,
    range: ranges[i % ranges.length] as DayRange,
  }));
  return shuffled([...real, ...made], n);
};
/** The fewest calls that can answer: one listing per distinct range, each as many pages as its rows need. */
const lowerBound = (asked: readonly KeyInRange[]) => {
  const ranges = new Map(asked.map((a) => [`${a.range.since}/${a.range.until}`, a.range]));
  return [...ranges.values()].reduce(
    (calls, range) => calls + Math.max(1, Math.ceil(deliveredIn(world, range).length / PAGE_SIZE)),
    0,
  );
};

describe('batching CampaignPerformance keys into one insights listing per range', () => {
  let sandbox: RunningSandbox;
  let store: CacheStore;
  const opened: MetaConnector[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { world });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    store = createCacheStore({ maxEntries: 1_000, logger: silentLogger });
    await sandbox.resetStats();
  });
  afterEach(async () => {
    for (const meta of opened.splice(0)) await meta.close();
    await store.close();
  });

  const connect = () => {
    const meta = new MetaConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 1,
      pageSize: PAGE_SIZE,
      cache: new RecordCache(store, 'meta', adAccountId, TTLS),
    });
    opened.push(meta);
    return meta;
  };

  for (const n of [100, 500]) {
    const asked = askFor(n);
    const expectedCalls = lowerBound(asked);
    it(`should answer ${n} keys over 3 ranges with ${expectedCalls} insights calls (Σ max(1, ⌈rows / ${PAGE_SIZE}⌉)) cold and 0 warm, in the order asked, missing keys null`, async () => {
      const meta = connect();
      expect(asked).toHaveLength(n);
      const cold = await createAdsLoaders(meta, testRequest()).performanceByKey.loadMany(asked);
      expect(cold).toEqual(asked.map(({ key, range }) => expectedPerformance(world, key, range)));
      expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(expectedCalls);

      // Another request: its own loaders, the same listings through the cache.
      const warm = await createAdsLoaders(meta, testRequest()).performanceByKey.loadMany(asked);
      expect(warm).toEqual(cold);
      expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(expectedCalls);
    });
  }

  it('should fail only the keys of a range whose listing failed', async () => {
    const meta = connect();
    const until = world.options.anchorDate;
    const bad = { since: addDays(until, -6), until };
    const good = { since: addDays(until, -13), until };
    // The good range is cached first, so the one failure injected next can only hit the bad one.
    await meta.campaignInsights(testRequest(), good);
    await sandbox.setFaults({ errorRate: 1, errorStatus: 400, remaining: 1, endpoints: [INSIGHTS] });
    const key = world.campaigns.at(-1)?.key ?? '';
    const [failed, answered] = await createAdsLoaders(meta, testRequest()).performanceByKey.loadMany([
      { key, range: bad },
      { key, range: good },
    ]);
    expect(failed).toBeInstanceOf(Error);
    expect(answered).toEqual(expectedPerformance(world, key, good));
  });
});

describe('a Dashboard-like load on the ads subgraph', () => {
  let sandbox: RunningSandbox;
  let store: CacheStore;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
    gateway = await gatewayKeysFor('ads');
    store = createCacheStore({ maxEntries: 1_000, logger: silentLogger });
    subgraph = await buildAdsSubgraph(
      {
        meta: { baseUrl: sandbox.baseUrl, accessToken, adAccountId, insightsCallsPerHour: 600 },
        upstreamTimeoutMs: 5_000,
        upstreamMaxRetries: 1,
        cache: { store, ttls: TTLS },
        auth: gateway.auth,
      },
      silentLogger,
    );
    listening = await listen(subgraph.server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await listening.close();
    await subgraph.stop();
    await store.close();
    await sandbox.close();
  });

  it('should resolve 12 keys of one range with 1 insights call cold and 0 warm', async () => {
    const range = { since: sandbox.world.windowStart, until: sandbox.world.options.anchorDate };
    const keys = sandbox.world.campaigns.map((c) => c.key);
    expect(keys).toHaveLength(12);
    const dashboard = async () => {
      const response = await fetch(`${listening.origin}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await gateway.mint(['campaigns:read', 'ads:read'])}`,
        },
        body: JSON.stringify({
          query: `query ($since: Date!, $until: Date!, $representations: [_Any!]!) {
            campaignPerformance(since: $since, until: $until) { key }
            _entities(representations: $representations) {
              ... on CampaignPerformance { key since until ads { impressions clicks conversions spend { amount currency } } }
            }
          }`,
          variables: {
            ...range,
            representations: keys.map((key) => ({ __typename: 'CampaignPerformance', key, ...range })),
          },
        }),
      });
      return (await response.json()) as {
        data?: { campaignPerformance: { key: string }[]; _entities: unknown[] };
        errors?: unknown[];
      };
    };
    // One page holds every row at the default page size of 500.
    const pages = Math.ceil(deliveredIn(sandbox.world, range).length / 500);
    expect(pages).toBe(1);

    await sandbox.resetStats();
    const cold = await dashboard();
    expect(cold.errors).toBeUndefined();
    expect(cold.data?._entities).toEqual(keys.map((key) => expectedPerformance(sandbox.world, key, range)));
    expect(cold.data?.campaignPerformance.map((row) => row.key)).toEqual([...keys].sort());
    expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(pages);

    await sandbox.resetStats();
    const warm = await dashboard();
    expect(warm).toEqual(cold);
    expect((await sandbox.stats()).total).toBe(0);
  });
});
