import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { generateGatewayKeys } from '../../lib/auth/gateway-token.js';
import { ConfigError } from '../../lib/config/env.js';
import { addDays } from '../../lib/dates.js';
import { PLATFORM_SUBGRAPHS, type PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import { createLogger } from '../../lib/logger.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { adsConfigFromEnv } from '../../subgraphs/ads/index.js';
import { commerceConfigFromEnv } from '../../subgraphs/commerce/index.js';
import { crmConfigFromEnv } from '../../subgraphs/crm/index.js';
import { emailConfigFromEnv } from '../../subgraphs/email/index.js';
import { messagingConfigFromEnv } from '../../subgraphs/messaging/index.js';
import { GATEWAY_ONLY_MESSAGE } from '../../subgraphs/kit/gateway-auth.js';
import { subgraphMetrics } from '../../subgraphs/kit/metrics.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { startSubgraph, type MintOptions, type RunningSubgraph } from '../helpers/subgraph.js';

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const world = generateWorld({ seed: 7, customers: 120, anchorDate: TEST_ANCHOR_DATE });
const since = addDays(TEST_ANCHOR_DATE, -30);
const customer = world.customers[3];
const campaignKey = world.campaigns[0]?.key;
if (!customer || !campaignKey) throw new Error('the test world has no customer or campaign');

/** An ordinary operation on each subgraph's own root fields (commerce has none: it only extends entities). */
const NORMAL: Record<PlatformSubgraphName, string> = {
  crm: '{ customers(first: 1) { edges { cursor } } }',
  email: `{ emailCampaigns(since: "${since}", until: "${TEST_ANCHOR_DATE}") { id } }`,
  commerce: '{ __typename }',
  ads: `{ adCampaigns(since: "${since}", until: "${TEST_ANCHOR_DATE}") { id } }`,
  messaging: '{ __typename }',
};

/** The keys of each entity type, as the query planner selects them. */
const KEY_SELECTION: Record<string, string> = {
  Customer: 'email',
  CampaignPerformance: 'key since until',
};

const entities = (typename: string, selection = KEY_SELECTION[typename]) => /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      __typename
      ... on ${typename} { ${selection} }
    }
  }
`;

/** One entity each subgraph resolves, by the key the query planner would send. */
const REPRESENTATION: Record<PlatformSubgraphName, Record<string, string>> = {
  crm: { __typename: 'Customer', email: customer.person.email },
  email: { __typename: 'Customer', email: customer.person.email },
  commerce: { __typename: 'Customer', email: customer.person.email },
  ads: { __typename: 'CampaignPerformance', key: campaignKey, since, until: TEST_ANCHOR_DATE },
  messaging: { __typename: 'Customer', phone: customer.person.phone },
};

/** The messaging subgraph knows customers by phone, not email. */
const SELECTION: Partial<Record<PlatformSubgraphName, string>> = { messaging: 'phone' };

const operations = (name: PlatformSubgraphName) => [
  { label: 'a normal query', query: NORMAL[name], variables: {} },
  { label: '_service { sdl }', query: '{ _service { sdl } }', variables: {} },
  {
    label: '_entities',
    query: entities(REPRESENTATION[name]['__typename'] ?? '', SELECTION[name]),
    variables: { representations: [REPRESENTATION[name]] },
  },
];

/** Tokens a subgraph must refuse, and how to make each (null: no Authorization header at all). */
const BAD_TOKENS: { label: string; header: (s: RunningSubgraph) => Promise<string | null> }[] = [
  { label: 'no token', header: async () => null },
  { label: 'a forged token (another key, same kid)', header: bearer({ forged: true }) },
  { label: 'an expired token', header: bearer({ expiredSecondsAgo: 120 }) },
  { label: "a token for another subgraph's audience", header: bearer({ audience: 'other' }) },
  { label: 'an unsigned token (alg: none)', header: bearer({ unsigned: true }) },
  { label: 'a token from another issuer', header: bearer({ issuer: 'someone-else' }) },
  { label: 'a valid token under the Basic scheme', header: async (s) => `Basic ${await s.mint(ALL_SCOPES)}` },
  { label: 'a token that is not a JWT', header: async () => 'Bearer not-a-jwt' },
];

function bearer(options: MintOptions) {
  return async (s: RunningSubgraph) => `Bearer ${await s.mint(ALL_SCOPES, 'intruder', options)}`;
}

async function post(
  s: RunningSubgraph,
  authorization: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const response = await fetch(s.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== null ? { authorization } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

describe.each(PLATFORM_SUBGRAPHS.map((name) => [name]))('%s subgraph: the gateway token', (name) => {
  let subgraph: RunningSubgraph;

  beforeAll(async () => {
    subgraph = await startSubgraph(name, { world });
  });
  afterAll(async () => {
    await subgraph.close();
  });

  describe.each(BAD_TOKENS.map((bad) => [bad.label, bad]))('with %s', (_label, bad) => {
    it.each(operations(name).map((op) => [op.label, op]))(
      'should answer %s with 401 UNAUTHENTICATED, no data and no upstream call',
      async (_opLabel, op) => {
        await subgraph.sandbox.resetStats();
        const { status, headers, body } = await post(
          subgraph,
          await bad.header(subgraph),
          op.query,
          op.variables,
        );
        expect(status).toBe(401);
        expect(headers.get('www-authenticate')).toBe('Bearer');
        expect(body).not.toHaveProperty('data');
        expect(body.errors).toEqual([
          { message: GATEWAY_ONLY_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } },
        ]);
        expect((await subgraph.sandbox.stats()).total).toBe(0);
      },
    );
  });

  it('should refuse a GET query without a token as well', async () => {
    const response = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: [{ message: GATEWAY_ONLY_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }],
    });
  });

  it('should answer a GET query with a valid token', async () => {
    const response = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${await subgraph.mint([])}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { _service: { sdl: string } } };
    expect(body.data._service.sdl).toContain('@requiresScopes');
  });

  it('should count each refused request by reason', async () => {
    const missing = await subgraphMetrics.rejectedRequests.get({ subgraph: name, reason: 'missing' });
    const invalid = await subgraphMetrics.rejectedRequests.get({ subgraph: name, reason: 'invalid' });
    await post(subgraph, null, NORMAL[name]);
    await post(subgraph, `Bearer ${await subgraph.mint([], 'x', { forged: true })}`, NORMAL[name]);
    await post(subgraph, `Bearer ${await subgraph.mint([], 'x', { expiredSecondsAgo: 60 })}`, NORMAL[name]);
    expect(await subgraphMetrics.rejectedRequests.get({ subgraph: name, reason: 'missing' })).toBe(
      missing + 1,
    );
    expect(await subgraphMetrics.rejectedRequests.get({ subgraph: name, reason: 'invalid' })).toBe(
      invalid + 2,
    );
  });

  it('should serve _service { sdl } to any valid token, scopes or not', async () => {
    const { status, body } = await post(
      subgraph,
      `Bearer ${await subgraph.mint([])}`,
      '{ _service { sdl } }',
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const sdl = (body.data?.['_service'] as { sdl: string }).sdl;
    expect(sdl).toContain(`type ${REPRESENTATION[name]['__typename']}`);
  });

  it('should resolve _entities by key for a valid token', async () => {
    const { status, body } = await post(
      subgraph,
      `Bearer ${await subgraph.mint(ALL_SCOPES)}`,
      entities(REPRESENTATION[name]['__typename'] ?? '', SELECTION[name]),
      {
        representations: [REPRESENTATION[name]],
      },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.['_entities']).toEqual([REPRESENTATION[name]]);
  });

  it('should answer /health without a token (it returns no data)', async () => {
    const response = await fetch(`${subgraph.origin}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', subgraph: name });
  });
});

describe('gateway token: key rotation and logs', () => {
  it('should accept tokens signed by either key while both are listed, and no other', async () => {
    const next = await generateGatewayKeys();
    const stranger = await generateGatewayKeys();
    const subgraph = await startSubgraph('ads', { world, extraKeys: next.publicJwks.keys });
    try {
      const withKey = async (key: typeof next.privateJwk | undefined) =>
        post(
          subgraph,
          `Bearer ${await subgraph.mint([], 'rotating', key ? { key } : {})}`,
          '{ _service { sdl } }',
        );
      expect((await withKey(undefined)).status).toBe(200);
      expect((await withKey(next.privateJwk)).status).toBe(200);
      expect((await withKey(stranger.privateJwk)).status).toBe(401);
    } finally {
      await subgraph.close();
    }
  });

  it("should log the caller's clientId on the operation line, and never the token", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'subgraph:crm',
      level: 'info',
      destination: { write: (l) => lines.push(l) },
    });
    const subgraph = await startSubgraph('crm', { world, logger });
    try {
      const token = await subgraph.mint(['crm:read'], 'dashboard-7');
      const forged = await subgraph.mint(['crm:read'], 'dashboard-7', { forged: true });
      await post(subgraph, `Bearer ${token}`, 'query Page { customers(first: 1) { edges { cursor } } }');
      await post(subgraph, `Bearer ${forged}`, 'query Page { customers(first: 1) { edges { cursor } } }');
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.filter((e) => e['msg'] === 'subgraph operation')).toEqual([
        expect.objectContaining({ operationName: 'Page', clientId: 'dashboard-7', errors: 0 }),
      ]);
      expect(entries.filter((e) => e['reason'] === 'invalid')).toHaveLength(1);
      const everything = lines.join('\n');
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(forged.split('.')[2]);
    } finally {
      await subgraph.close();
    }
  });
});

describe('GATEWAY_TOKEN_JWKS', () => {
  const base: Record<PlatformSubgraphName, NodeJS.ProcessEnv> = {
    crm: { HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken },
    email: {
      MAILCHIMP_API_KEY: DEMO_CREDENTIALS.mailchimp.apiKey,
      MAILCHIMP_LIST_ID: DEMO_CREDENTIALS.mailchimp.listId,
    },
    commerce: {
      SHOPIFY_BASE_URL: 'http://127.0.0.1:9/admin/api/2026-10',
      SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
    },
    ads: {
      META_ACCESS_TOKEN: DEMO_CREDENTIALS.meta.accessToken,
      META_AD_ACCOUNT_ID: DEMO_CREDENTIALS.meta.adAccountId,
    },
    messaging: {
      TWILIO_ACCOUNT_SID: DEMO_CREDENTIALS.twilio.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_CREDENTIALS.twilio.authToken,
      TWILIO_FROM: DEMO_CREDENTIALS.twilio.from,
    },
  };
  const fromEnv: Record<PlatformSubgraphName, (source: NodeJS.ProcessEnv) => { auth: { jwks: unknown } }> = {
    crm: crmConfigFromEnv,
    email: emailConfigFromEnv,
    commerce: commerceConfigFromEnv,
    ads: adsConfigFromEnv,
    messaging: messagingConfigFromEnv,
  };

  function problemsOf(run: () => unknown): readonly string[] {
    try {
      run();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it.each(PLATFORM_SUBGRAPHS.map((name) => [name]))(
    '%s: should read the gateway public keys and stop start-up when they are missing or malformed',
    async (name) => {
      const keys = await generateGatewayKeys();
      const config = fromEnv[name]({ ...base[name], GATEWAY_TOKEN_JWKS: JSON.stringify(keys.publicJwks) });
      expect(config.auth.jwks).toEqual(keys.publicJwks);
      expect(problemsOf(() => fromEnv[name](base[name]))).toEqual([
        expect.stringMatching(/^GATEWAY_TOKEN_JWKS: required/),
      ]);
      expect(
        problemsOf(() =>
          fromEnv[name]({ ...base[name], GATEWAY_TOKEN_JWKS: JSON.stringify({ keys: [{ kty: 'RSA' }] }) }),
        ),
      ).toEqual([expect.stringMatching(/^GATEWAY_TOKEN_JWKS: must be a JSON Web Key Set/)]);
      expect(problemsOf(() => fromEnv[name]({ ...base[name], GATEWAY_TOKEN_JWKS: '{not json' }))).toEqual([
        expect.stringMatching(/^GATEWAY_TOKEN_JWKS: /),
      ]);
      // The gateway's private key must never reach a subgraph, even by a copy-paste mistake.
      const withPrivate = JSON.stringify({ keys: [keys.privateJwk] });
      expect(problemsOf(() => fromEnv[name]({ ...base[name], GATEWAY_TOKEN_JWKS: withPrivate }))).toEqual([
        expect.stringMatching(/^GATEWAY_TOKEN_JWKS: .*private key/),
      ]);
    },
  );
});
