import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../lib/dates.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { ADS_ENV, adsConfigFromEnv, buildAdsSubgraph } from '../../subgraphs/ads/index.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

const INSIGHTS = 'GET /{version}/act_{adAccountId}/insights';
const { accessToken, adAccountId } = DEMO_CREDENTIALS.meta;

describe('the ads subgraph configuration of the insights budget', () => {
  let required: Record<string, string>;

  beforeAll(async () => {
    const { jwksEnv } = await gatewayKeysFor('ads');
    required = {
      META_ACCESS_TOKEN: accessToken,
      META_AD_ACCOUNT_ID: adAccountId,
      GATEWAY_TOKEN_JWKS: jwksEnv,
    };
  });

  it('should read META_INSIGHTS_CALLS_PER_HOUR, 600 when unset', () => {
    expect(ADS_ENV).toContain('META_INSIGHTS_CALLS_PER_HOUR');
    expect(
      adsConfigFromEnv({ ...required, META_INSIGHTS_CALLS_PER_HOUR: '42' }).meta.insightsCallsPerHour,
    ).toBe(42);
    expect(adsConfigFromEnv(required).meta.insightsCallsPerHour).toBe(600);
  });
});

describe('the ads subgraph within a configured insights budget', () => {
  let sandbox: RunningSandbox;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;

  beforeAll(async () => {
    sandbox = await startSandbox('meta', { customers: 20 });
    gateway = await gatewayKeysFor('ads');
    subgraph = await buildAdsSubgraph(
      {
        meta: { baseUrl: sandbox.baseUrl, accessToken, adAccountId, insightsCallsPerHour: 2 },
        upstreamTimeoutMs: 5_000,
        upstreamMaxRetries: 1,
        auth: gateway.auth,
      },
      silentLogger,
    );
    listening = await listen(subgraph.server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await listening.close();
    await subgraph.stop();
    await sandbox.close();
  });

  it('should answer the first 2 ranges and refuse the third with CLIENT_THROTTLE without calling Meta', async () => {
    const codes: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const since = addDays(sandbox.world.windowStart, i * 7);
      const response = await fetch(`${listening.origin}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await gateway.mint(['ads:read'])}`,
        },
        body: JSON.stringify({
          query: `query ($since: Date!, $until: Date!) { adCampaigns(since: $since, until: $until) { id } }`,
          variables: { since, until: addDays(since, 6) },
        }),
      });
      const body = (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
      codes.push(body.errors?.[0]?.extensions?.['upstreamCode'] ?? 'ok');
    }
    expect(codes).toEqual(['ok', 'ok', 'CLIENT_THROTTLE']);
    expect((await sandbox.stats()).endpoints[INSIGHTS]).toEqual({ count: 2, statuses: { '200': 2 } });
  });
});
