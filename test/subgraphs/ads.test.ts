import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../../lib/auth/scopes.js';
import { addDays } from '../../lib/dates.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { AD_ACCOUNT_CURRENCY, type AdCampaign, type World } from '../../sandboxes/world/world.js';
import { buildAdsSubgraph } from '../../subgraphs/ads/index.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

const INSIGHTS = 'GET /{version}/act_{adAccountId}/insights';
const ACCOUNT = 'GET /{version}/act_{adAccountId}';

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}
interface Stats {
  impressions: number;
  clicks: number;
  conversions: number;
  spend: { amount: string; currency: string };
  ctr: number | null;
}

const STATS = 'impressions clicks conversions spend { amount currency } ctr';
const dollars = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** What the ads platform should report for some campaigns over a range, from the world. */
function expectedStats(campaigns: readonly AdCampaign[], since: string, until: string): Stats {
  const days = campaigns.flatMap((c) => c.daily.filter((d) => d.date >= since && d.date <= until));
  const total = (metric: 'impressions' | 'clicks' | 'spendCents' | 'purchases') =>
    days.reduce((sum, d) => sum + d[metric], 0);
  return {
    impressions: total('impressions'),
    clicks: total('clicks'),
    conversions: total('purchases'),
    spend: { amount: dollars(total('spendCents')), currency: AD_ACCOUNT_CURRENCY },
    ctr: total('impressions') > 0 ? total('clicks') / total('impressions') : null,
  };
}

const deliveredIn = (world: World, since: string, until: string) =>
  world.adCampaigns.filter((c) =>
    c.daily.some((d) => d.date >= since && d.date <= until && d.impressions > 0),
  );

describe('the ads subgraph over the Meta sandbox', () => {
  let sandbox: RunningSandbox;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;
  let since: string;
  let until: string;

  /** Posts `text` with a gateway token carrying `scopes`: the least the fields asked for need. */
  const query = async <T>(
    scopes: readonly Scope[],
    text: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLBody<T>> => {
    const response = await fetch(`${listening.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gateway.mint(scopes)}` },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await response.json()) as GraphQLBody<T>;
  };

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
    gateway = await gatewayKeysFor('ads');
    subgraph = await buildAdsSubgraph(
      {
        meta: {
          baseUrl: sandbox.baseUrl,
          accessToken: DEMO_CREDENTIALS.meta.accessToken,
          adAccountId: DEMO_CREDENTIALS.meta.adAccountId,
        },
        upstreamTimeoutMs: 5_000,
        upstreamMaxRetries: 1,
        auth: gateway.auth,
      },
      silentLogger,
    );
    listening = await listen(subgraph.server, 0, '127.0.0.1');
    until = sandbox.world.options.anchorDate;
    since = addDays(until, -44);
  });
  afterAll(async () => {
    await listening.close();
    await subgraph.stop();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should answer one row per campaign key with delivery, sorted by key, summed over its campaigns', async () => {
    const body = await query<{
      campaignPerformance: { key: string; since: string; until: string; ads: Stats }[];
    }>(
      ['campaigns:read', 'ads:read'],
      `query ($since: Date!, $until: Date!) { campaignPerformance(since: $since, until: $until) { key since until ads { ${STATS} } } }`,
      { since, until },
    );
    expect(body.errors).toBeUndefined();
    const keyed = deliveredIn(sandbox.world, since, until).filter((c) => c.key !== null);
    const keys = [...new Set(keyed.map((c) => c.key!))].sort();
    expect(body.data?.campaignPerformance.map((row) => row.key)).toEqual(keys);
    for (const row of body.data?.campaignPerformance ?? []) {
      expect(row).toEqual({
        key: row.key,
        since,
        until,
        ads: expectedStats(
          keyed.filter((c) => c.key === row.key),
          since,
          until,
        ),
      });
    }
  });

  it('should list every campaign with delivery by name, with its key and stats', async () => {
    const body = await query<{
      adCampaigns: { id: string; name: string; campaignKey: string | null; stats: Stats }[];
    }>(
      ['ads:read'],
      `query ($since: Date!, $until: Date!) { adCampaigns(since: $since, until: $until) { id name campaignKey stats { ${STATS} } } }`,
      { since, until },
    );
    const campaigns = deliveredIn(sandbox.world, since, until).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    expect(body.data?.adCampaigns).toEqual(
      campaigns.map((c) => ({
        id: c.id,
        name: c.name,
        campaignKey: c.key,
        stats: expectedStats([c], since, until),
      })),
    );
    expect(body.data?.adCampaigns.some((c) => c.campaignKey === null)).toBe(true);
  });

  it('should resolve references and root fields of one range with a single insights listing', async () => {
    const delivered = deliveredIn(sandbox.world, since, until).find((c) => c.key !== null)!;
    const idle = sandbox.world.campaigns.find((c) => c.endDate < since)!;
    const body = await query<{
      _entities: { key: string; ads: Stats }[];
      campaignPerformance: { key: string }[];
      adCampaigns: { id: string }[];
    }>(
      ['campaigns:read', 'ads:read'],
      `query ($since: Date!, $until: Date!, $representations: [_Any!]!) {
        _entities(representations: $representations) { ... on CampaignPerformance { key ads { ${STATS} } } }
        campaignPerformance(since: $since, until: $until) { key }
        adCampaigns(since: $since, until: $until) { id }
      }`,
      {
        since,
        until,
        representations: [delivered.key!, idle.key].map((key) => ({
          __typename: 'CampaignPerformance',
          key,
          since,
          until,
        })),
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?._entities).toEqual([
      {
        key: delivered.key,
        ads: expectedStats(
          sandbox.world.adCampaigns.filter((c) => c.key === delivered.key),
          since,
          until,
        ),
      },
      {
        key: idle.key,
        ads: {
          impressions: 0,
          clicks: 0,
          conversions: 0,
          spend: { amount: '0.00', currency: AD_ACCOUNT_CURRENCY },
          ctr: null,
        },
      },
    ]);
    const stats = await sandbox.stats();
    expect(stats.endpoints[INSIGHTS]?.count).toBe(1);
    expect(stats.endpoints[ACCOUNT]).toBeUndefined();
  });

  it("should give zero spend in the account's currency for a range with no delivery at all", async () => {
    const quiet = addDays(sandbox.world.windowStart, -1);
    const body = await query<{ _entities: { ads: Stats }[] }>(
      ['campaigns:read', 'ads:read'],
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on CampaignPerformance { ads { ${STATS} } } } }`,
      {
        representations: [
          {
            __typename: 'CampaignPerformance',
            key: sandbox.world.campaigns[0]!.key,
            since: quiet,
            until: quiet,
          },
        ],
      },
    );
    expect(body.data?._entities[0]?.ads.spend).toEqual({ amount: '0.00', currency: AD_ACCOUNT_CURRENCY });
    expect((await sandbox.stats()).endpoints[ACCOUNT]?.count).toBe(1);
  });

  it('should refuse a range that ends before it starts as BAD_USER_INPUT without calling Meta', async () => {
    const body = await query(
      ['campaigns:read'],
      `{ campaignPerformance(since: "2026-11-10", until: "2026-11-01") { key } }`,
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'until' });
    expect((await sandbox.stats()).total).toBe(0);
  });

  it('should report Meta throttling with the upstream code, the platform and the subgraph', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, endpoints: [INSIGHTS] });
    const body = await query(
      ['ads:read'],
      `{ adCampaigns(since: "2026-11-01", until: "2026-11-07") { id } }`,
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'meta',
      upstreamCode: '80000/2446079',
      subgraph: 'ads',
    });
  });
});
