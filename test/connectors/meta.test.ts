import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { campaignKeyOf } from '../../platforms/meta/client/campaign-key.js';
import { MetaConnector } from '../../platforms/meta/client/connector.js';
import { conversionsOf } from '../../platforms/meta/client/records.js';
import { campaignInsightsPage } from '../../platforms/meta/client/schemas.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { sumMoney } from '../../lib/money.js';
import { listen } from '../../lib/server/listen.js';
import { parseUpstream } from '../../lib/upstream/parse.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { createMetaSandbox } from '../../platforms/meta/sandbox/index.js';
import {
  AD_ACCOUNT_CURRENCY,
  generateWorld,
  type AdCampaign,
  type World,
} from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const INSIGHTS = 'GET /{version}/act_{adAccountId}/insights';
const { accessToken, adAccountId } = DEMO_CREDENTIALS.meta;

/** A campaign's days with delivery in a range, straight from the world. */
function deliveredIn(world: World, since: string, until: string) {
  return world.adCampaigns
    .map((campaign) => ({
      campaign,
      days: campaign.daily.filter((d) => d.date >= since && d.date <= until && d.impressions > 0),
    }))
    .filter((c) => c.days.length > 0);
}

const sum = (days: AdCampaign['daily'], metric: 'impressions' | 'clicks' | 'spendCents' | 'purchases') =>
  days.reduce((total, d) => total + d[metric], 0);
const dollars = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

describe('campaign keys in campaign names', () => {
  it('should take the key before ` | ` when it looks like a key', () => {
    expect(campaignKeyOf('spring-sale | Prospecting')).toBe('spring-sale');
    expect(campaignKeyOf('bf2026 | Retargeting | EU')).toBe('bf2026');
  });

  it('should give no key when the name follows no `<key> | ` pattern', () => {
    expect(campaignKeyOf('Always-on brand awareness')).toBeNull();
    expect(campaignKeyOf('Spring Sale | Prospecting')).toBeNull();
    expect(campaignKeyOf('-spring | Prospecting')).toBeNull();
    expect(campaignKeyOf('spring-sale|Prospecting')).toBeNull();
    expect(campaignKeyOf(' | Prospecting')).toBeNull();
  });

  it('should recover the key of every seeded campaign from its name', () => {
    const world = generateWorld({ seed: 3, customers: 1, anchorDate: '2026-06-30' });
    expect(world.adCampaigns.map((c) => campaignKeyOf(c.name))).toEqual(world.adCampaigns.map((c) => c.key));
  });
});

describe('conversions from Meta actions', () => {
  it('should count `purchase`, fall back to the pixel purchase, and be 0 without either', () => {
    const pixel = { action_type: 'offsite_conversion.fb_pixel_purchase', value: '4' };
    expect(conversionsOf([pixel, { action_type: 'purchase', value: '6' }])).toBe(6);
    expect(conversionsOf([{ action_type: 'link_click', value: '90' }, pixel])).toBe(4);
    expect(conversionsOf([{ action_type: 'link_click', value: '90' }])).toBe(0);
    expect(conversionsOf(undefined)).toBe(0);
  });
});

describe('Meta connector against the Meta sandbox', () => {
  let sandbox: RunningSandbox;
  let meta: MetaConnector;
  const connect = (overrides: Partial<ConstructorParameters<typeof MetaConnector>[0]> = {}) =>
    new MetaConnector({
      baseUrl: sandbox.baseUrl,
      accessToken,
      adAccountId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const insightsUrl = (params: Record<string, string>) =>
    `${sandbox.baseUrl}/act_${adAccountId}/insights?${new URLSearchParams(params).toString()}`;
  const bearer = { authorization: `Bearer ${accessToken}` };

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
    meta = connect();
  });
  afterAll(async () => {
    await meta.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should page through the insights of a range and match the world to the cent', async () => {
    const world = sandbox.world;
    const since = world.windowStart;
    const until = world.options.anchorDate;
    const expected = deliveredIn(world, since, until);
    const paged = connect({ pageSize: 5 });
    const rows = await paged.campaignInsights(testRequest(), { since, until });
    await paged.close();

    expect(rows.map((r) => r.campaignId).sort()).toEqual(expected.map((e) => e.campaign.id).sort());
    for (const { campaign, days } of expected) {
      expect(rows.find((r) => r.campaignId === campaign.id)).toEqual({
        campaignId: campaign.id,
        campaignName: campaign.name,
        campaignKey: campaign.key,
        impressions: sum(days, 'impressions'),
        clicks: sum(days, 'clicks'),
        conversions: sum(days, 'purchases'),
        spend: { amount: dollars(sum(days, 'spendCents')), currency: AD_ACCOUNT_CURRENCY },
      });
    }
    const allDays = expected.flatMap((e) => e.days);
    expect(
      sumMoney(
        rows.map((r) => r.spend),
        AD_ACCOUNT_CURRENCY,
      ),
    ).toEqual({ amount: dollars(sum(allDays, 'spendCents')), currency: AD_ACCOUNT_CURRENCY });
    const stats = await sandbox.stats();
    expect(stats.endpoints[INSIGHTS]).toEqual({
      count: Math.ceil(expected.length / 5),
      statuses: { '200': Math.ceil(expected.length / 5) },
    });
  });

  it('should read a whole range in one call at the default page size', async () => {
    const since = addDays(sandbox.world.options.anchorDate, -29);
    const until = sandbox.world.options.anchorDate;
    const rows = await meta.campaignInsights(testRequest(), { since, until });
    expect(rows).toHaveLength(deliveredIn(sandbox.world, since, until).length);
    expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(1);
  });

  it('should answer one row per campaign and day with time_increment=1', async () => {
    const since = addDays(sandbox.world.options.anchorDate, -6);
    const until = sandbox.world.options.anchorDate;
    const response = await fetch(
      insightsUrl({
        level: 'campaign',
        fields: 'campaign_id,impressions,clicks,spend',
        time_range: JSON.stringify({ since, until }),
        time_increment: '1',
        limit: '500',
      }),
      { headers: bearer },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Record<string, string>[]; paging?: { next?: string } };
    const expected = deliveredIn(sandbox.world, since, until).flatMap(({ campaign, days }) =>
      days.map((d) => ({
        campaign_id: campaign.id,
        impressions: String(d.impressions),
        clicks: String(d.clicks),
        spend: dollars(d.spendCents),
        date_start: d.date,
        date_stop: d.date,
      })),
    );
    expect(body.paging?.next).toBeUndefined();
    const byDayThenId = (a: Record<string, string>, b: Record<string, string>) =>
      `${a['date_start']}${a['campaign_id']}`.localeCompare(`${b['date_start']}${b['campaign_id']}`);
    expect([...body.data].sort(byDayThenId)).toEqual([...expected].sort(byDayThenId));
  });

  it('should follow Graph cursors with a `next` link on every page but the last', async () => {
    const since = sandbox.world.windowStart;
    const until = sandbox.world.options.anchorDate;
    const total = deliveredIn(sandbox.world, since, until).length;
    let url: string | undefined = insightsUrl({
      level: 'campaign',
      fields: 'campaign_id',
      time_range: JSON.stringify({ since, until }),
      limit: '4',
    });
    const ids: string[] = [];
    let pages = 0;
    while (url) {
      const response = await fetch(url.replace('https://graph.facebook.com/v25.0', sandbox.baseUrl), {
        headers: bearer,
      });
      const body = (await response.json()) as {
        data: { campaign_id: string }[];
        paging: { cursors: { after: string }; next?: string };
      };
      ids.push(...body.data.map((r) => r.campaign_id));
      url = body.paging.next;
      pages++;
    }
    expect(pages).toBe(Math.ceil(total / 4));
    expect(new Set(ids).size).toBe(total);
  });

  it('should answer no rows for a range without delivery', async () => {
    const until = addDays(sandbox.world.windowStart, -1);
    const rows = await meta.campaignInsights(testRequest(), { since: addDays(until, -30), until });
    expect(rows).toEqual([]);
  });

  it('should list every campaign of the account across pages', async () => {
    const paged = connect({ pageSize: 4 });
    const campaigns = await paged.listCampaigns(testRequest());
    await paged.close();
    expect(campaigns.map((c) => c.id).sort()).toEqual(sandbox.world.adCampaigns.map((c) => c.id).sort());
    const brand = sandbox.world.adCampaigns.find((c) => c.key === null)!;
    expect(campaigns.find((c) => c.id === brand.id)).toMatchObject({
      campaignKey: null,
      objective: 'AWARENESS',
    });
  });

  it("should read the account's currency once", async () => {
    const fresh = connect();
    expect(await fresh.accountCurrency(testRequest())).toBe(AD_ACCOUNT_CURRENCY);
    expect(await fresh.accountCurrency(testRequest())).toBe(AD_ACCOUNT_CURRENCY);
    await fresh.close();
    expect((await sandbox.stats()).endpoints['GET /{version}/act_{adAccountId}']?.count).toBe(1);
  });

  it('should report a rejected token as UPSTREAM_UNAUTHORIZED without the token', async () => {
    const wrong = connect({ accessToken: 'EAAnot-the-demo-token-at-all' });
    const error = await wrong
      .campaignInsights(testRequest(), { since: '2026-11-01', until: '2026-11-07' })
      .catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAUTHORIZED',
      platform: 'meta',
      upstreamStatus: 400,
      upstreamCode: '190',
    });
    expect((error as UpstreamError).message).not.toContain('EAAnot-the-demo-token-at-all');
  });

  it('should report a range Meta refuses as UPSTREAM_ERROR with code 100, without retrying', async () => {
    const error = await meta
      .campaignInsights(testRequest(), { since: '2026-11-10', until: '2026-11-01' })
      .catch((e: unknown) => e);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_ERROR',
      platform: 'meta',
      upstreamStatus: 400,
      upstreamCode: '100',
    });
    expect((error as UpstreamError).message).toContain('since (2026-11-10) must not be after until');
    expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(1);
  });

  it('should wait out an injected rate limit and succeed on retry', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, remaining: 1, endpoints: [INSIGHTS] });
    const since = sandbox.world.windowStart;
    const rows = await meta.campaignInsights(testRequest(), { since, until: addDays(since, 13) });
    expect(rows).toHaveLength(deliveredIn(sandbox.world, since, addDays(since, 13)).length);
    const stats = await sandbox.stats();
    expect(stats.endpoints[INSIGHTS]?.statuses).toEqual({ '200': 1, '400': 1 });
  });

  it('should report a rate limit that outlasts the retries as UPSTREAM_RATE_LIMITED naming meta', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, endpoints: [INSIGHTS] });
    const error = await meta
      .campaignInsights(testRequest(), { since: '2026-11-01', until: '2026-11-07' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'meta',
      upstreamCode: '80000/2446079',
    });
    expect((error as UpstreamError).message).toMatch(/^meta: rate limit reached: OAuthException: \(#80000\)/);
    expect((await sandbox.stats()).endpoints[INSIGHTS]?.count).toBe(3);
  });

  it('should reject a malformed payload with a clear error naming the platform and field', async () => {
    await sandbox.setFaults({ malformedRate: 1, endpoints: [INSIGHTS] });
    const error = await meta
      .campaignInsights(testRequest(), { since: '2026-11-01', until: '2026-11-07' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions['code']).toBe('UPSTREAM_BAD_RESPONSE');
    expect((error as UpstreamError).message).toMatch(
      /^meta returned an unexpected payload from GET \/act_\{adAccountId\}\/insights: data: /,
    );
  });

  it('should treat a metric that is not a number as a contract violation naming the field', () => {
    const row = {
      campaign_id: '23850000000',
      campaign_name: 'spring-sale | Prospecting',
      impressions: '1.2k',
      clicks: '10',
      spend: '12.50',
      account_currency: 'USD',
      date_start: '2026-11-01',
      date_stop: '2026-11-07',
    };
    const parse = () =>
      parseUpstream('meta', 'GET /act_{adAccountId}/insights', campaignInsightsPage, { data: [row] });
    expect(parse).toThrow(
      /^meta returned an unexpected payload .*: data\[0\]\.impressions: expected a whole number/,
    );
  });
});

describe('the Ads Insights hourly budget', () => {
  it('should report usage rising with each call and throttle the call past the budget', async () => {
    const world = generateWorld({ seed: 5, customers: 1, anchorDate: '2026-11-28' });
    const built = createSandboxServer(
      createMetaSandbox({ world, accessToken, adAccountId, callsPerHour: 3 }),
      {
        logger: silentLogger,
      },
    );
    const listening = await listen(built.server, 0, '127.0.0.1');
    const url = `${listening.origin}/v25.0/act_${adAccountId}/insights?level=campaign&date_preset=last_7d`;
    try {
      const usage: { call_count: number; estimated_time_to_regain_access: number }[] = [];
      const throttle: unknown[] = [];
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
        statuses.push(last.status);
        const header = JSON.parse(last.headers.get('x-business-use-case-usage') ?? '{}') as Record<
          string,
          { call_count: number; estimated_time_to_regain_access: number }[]
        >;
        usage.push(header[adAccountId]![0]!);
        throttle.push(JSON.parse(last.headers.get('x-fb-ads-insights-throttle') ?? 'null'));
        if (i < 3) await last.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 400]);
      expect(usage.map((u) => u.call_count)).toEqual([33, 67, 100, 100]);
      expect(throttle[1]).toEqual({
        app_id_util_pct: 67,
        acc_id_util_pct: 67,
        ads_api_access_tier: 'standard_access',
      });
      expect(usage[0]!.estimated_time_to_regain_access).toBe(0);
      expect(usage[3]!.estimated_time_to_regain_access).toBe(60);
      expect(await last!.json()).toMatchObject({
        error: { type: 'OAuthException', code: 80000, error_subcode: 2446079 },
      });

      const meta = new MetaConnector({
        baseUrl: `${listening.origin}/v25.0`,
        accessToken,
        adAccountId,
        timeoutMs: 5_000,
        maxRetries: 3,
      });
      const error = await meta
        .campaignInsights(testRequest(), { since: '2026-11-01', until: '2026-11-07' })
        .catch((e: unknown) => e);
      await meta.close();
      // Waiting an hour would pass any deadline, so the connector reports it at once.
      expect((error as UpstreamError).extensions).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        platform: 'meta',
        upstreamCode: '80000/2446079',
        retryAfterSeconds: 3600,
      });
      expect(built.stats.snapshot().endpoints[INSIGHTS]).toEqual({
        count: 5,
        statuses: { '200': 3, '400': 2 },
      });
    } finally {
      await listening.close();
    }
  });
});
