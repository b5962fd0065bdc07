import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../../lib/auth/scopes.js';
import { addDays } from '../../lib/dates.js';
import { createCacheStore } from '../../lib/cache/store.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { EmailCampaign } from '../../sandboxes/world/world.js';
import { emailStats, type EmailCampaignRecord } from '../../platforms/mailchimp/client/records.js';
import { buildEmailSubgraph, emailConfigFromEnv } from '../../subgraphs/email/index.js';
import { emailPerformance } from '../../subgraphs/email/performance.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

interface GraphQLBody<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const CUSTOMERS = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Customer {
        email
        emailSubscription {
          status
          memberRating
          optedInAt
          lastChangedAt
          vip
        }
        emailEngagement {
          avgOpenRate
          avgClickRate
        }
      }
    }
  }
`;

/**
 * The least scopes CUSTOMERS needs: the customer's, `pii:read` for `email` (a key field, read back
 * here to tell the entities apart, needs what it declares), and the email data.
 */
const CUSTOMERS_SCOPES: Scope[] = ['crm:read', 'pii:read', 'email:read'];

const PERFORMANCE = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on CampaignPerformance {
        key
        since
        until
        email {
          emailsSent
          uniqueOpens
          uniqueClicks
          openRate
          clickRate
        }
      }
    }
  }
`;

/** The least scopes PERFORMANCE and CAMPAIGNS need: both are campaign aggregates. */
const CAMPAIGNS_SCOPES: Scope[] = ['campaigns:read'];

const CAMPAIGNS = /* GraphQL */ `
  query ($since: Date!, $until: Date!) {
    emailCampaigns(since: $since, until: $until) {
      id
      title
      subjectLine
      sentAt
      campaignKey
      stats {
        emailsSent
        uniqueOpens
        uniqueClicks
        openRate
        clickRate
      }
    }
  }
`;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

describe('email subgraph against the Mailchimp sandbox', () => {
  let sandbox: RunningSandbox;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;

  /** Posts `query` with a gateway token carrying `scopes`. */
  async function post<T>(
    scopes: readonly Scope[],
    query: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLBody<T>> {
    const response = await fetch(`${listening.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gateway.mint(scopes)}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLBody<T>;
  }

  beforeAll(async () => {
    sandbox = await startSandbox('mailchimp', { customers: 200 });
    gateway = await gatewayKeysFor('email');
    subgraph = await buildEmailSubgraph(
      {
        mailchimp: {
          baseUrl: sandbox.baseUrl,
          apiKey: DEMO_CREDENTIALS.mailchimp.apiKey,
          listId: DEMO_CREDENTIALS.mailchimp.listId,
        },
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
  beforeEach(async () => {
    await sandbox.resetStats();
  });

  it('should resolve customers by email, with nulls for those outside the audience', async () => {
    const member = sandbox.world.customers.find((c) => c.audience?.optedInAt)!;
    const outsider = sandbox.world.customers.find((c) => !c.audience)!;
    const audience = member.audience!;
    const body = await post<{ _entities: unknown[] }>(CUSTOMERS_SCOPES, CUSTOMERS, {
      representations: [
        { __typename: 'Customer', email: member.person.email.toUpperCase() },
        { __typename: 'Customer', email: outsider.person.email },
        { __typename: 'Customer', email: null },
        { __typename: 'Customer', email: member.person.email },
      ],
    });
    expect(body.errors).toBeUndefined();
    const subscription = {
      status: audience.status.toUpperCase(),
      memberRating: audience.memberRating,
      optedInAt: wholeSecond(audience.optedInAt!),
      lastChangedAt: wholeSecond(audience.lastChangedAt),
      vip: audience.vip,
    };
    const engagement = { avgOpenRate: audience.avgOpenRate, avgClickRate: audience.avgClickRate };
    expect(body.data?._entities).toEqual([
      {
        email: member.person.email.toUpperCase(),
        emailSubscription: subscription,
        emailEngagement: engagement,
      },
      { email: outsider.person.email, emailSubscription: null, emailEngagement: null },
      { email: null, emailSubscription: null, emailEngagement: null },
      { email: member.person.email, emailSubscription: subscription, emailEngagement: engagement },
    ]);
    // The same address in two cases is one look-up; the null address is none.
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']?.count).toBe(2);
  });

  it('should add up the email campaigns of each key in a range from one listing', async () => {
    const since = addDays(sandbox.world.windowStart, 5);
    const until = addDays(since, 45);
    const inRange = (c: EmailCampaign) => day(c.sentAt) >= since && day(c.sentAt) <= until;
    const keys = [...new Set(sandbox.world.emailCampaigns.filter(inRange).map((c) => c.key))].slice(0, 3);
    expect(keys.length).toBeGreaterThan(1);
    const representations = [...keys, 'no-such-campaign'].map((key) => ({
      __typename: 'CampaignPerformance',
      key,
      since,
      until,
    }));
    const body = await post<{ _entities: unknown[] }>(CAMPAIGNS_SCOPES, PERFORMANCE, { representations });
    expect(body.errors).toBeUndefined();
    const expected = [...keys, 'no-such-campaign'].map((key) => {
      const sent = sandbox.world.emailCampaigns.filter((c) => c.key === key && inRange(c));
      const emailsSent = sent.reduce((sum, c) => sum + c.emailsSent, 0);
      const uniqueOpens = sent.reduce((sum, c) => sum + c.uniqueOpens, 0);
      const uniqueClicks = sent.reduce((sum, c) => sum + c.uniqueClicks, 0);
      return {
        key,
        since,
        until,
        email: {
          emailsSent,
          uniqueOpens,
          uniqueClicks,
          openRate: emailsSent > 0 ? uniqueOpens / emailsSent : 0,
          clickRate: emailsSent > 0 ? uniqueClicks / emailsSent : 0,
        },
      };
    });
    expect(body.data?._entities).toEqual(expected);
    expect(expected.at(-1)?.email.emailsSent).toBe(0);
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /3.0/campaigns']?.count).toBe(1);
  });

  it('should refuse a CampaignPerformance reference whose range is not valid', async () => {
    const body = await post(CAMPAIGNS_SCOPES, PERFORMANCE, {
      representations: [
        { __typename: 'CampaignPerformance', key: 'spring-sale', since: '2026-02-30', until: '2026-03-10' },
      ],
    });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'since' });
  });

  it('should list the campaigns sent in a range, newest first', async () => {
    const since = addDays(sandbox.world.windowStart, 20);
    const until = addDays(since, 30);
    const body = await post<{ emailCampaigns: { id: string; sentAt: string; campaignKey: string | null }[] }>(
      CAMPAIGNS_SCOPES,
      CAMPAIGNS,
      { since, until },
    );
    expect(body.errors).toBeUndefined();
    const expected = sandbox.world.emailCampaigns
      .filter((c) => day(c.sentAt) >= since && day(c.sentAt) <= until)
      .sort((a, b) => b.sentAt - a.sentAt);
    expect(expected.length).toBeGreaterThan(1);
    expect(body.data?.emailCampaigns.map((c) => [c.id, c.sentAt, c.campaignKey])).toEqual(
      expected.map((c) => [c.id, new Date(c.sentAt).toISOString(), c.key]),
    );
  });

  it('should answer BAD_USER_INPUT for a range that ends before it starts', async () => {
    const body = await post(CAMPAIGNS_SCOPES, CAMPAIGNS, { since: '2026-03-10', until: '2026-03-01' });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'until' });
  });

  it('should derive the base URL from the key when MAILCHIMP_BASE_URL is unset', () => {
    const source = {
      MAILCHIMP_API_KEY: DEMO_CREDENTIALS.mailchimp.apiKey,
      MAILCHIMP_LIST_ID: DEMO_CREDENTIALS.mailchimp.listId,
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
    };
    expect(emailConfigFromEnv(source).mailchimp.baseUrl).toBe('https://us21.api.mailchimp.com/3.0');
    expect(
      emailConfigFromEnv({ ...source, MAILCHIMP_BASE_URL: 'http://127.0.0.1:9/3.0/' }).mailchimp.baseUrl,
    ).toBe('http://127.0.0.1:9/3.0');
    const keyWithoutDc = 'abcdef0123456789abcdef0123456789';
    const error = (() => {
      try {
        emailConfigFromEnv({ ...source, MAILCHIMP_API_KEY: keyWithoutDc });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/MAILCHIMP_API_KEY: .*no data centre suffix/);
    expect(error?.message).not.toContain(keyWithoutDc);
  });

  it('should read the connection cap from MAILCHIMP_MAX_CONNECTIONS, 10 when unset', () => {
    const source = {
      MAILCHIMP_API_KEY: DEMO_CREDENTIALS.mailchimp.apiKey,
      MAILCHIMP_LIST_ID: DEMO_CREDENTIALS.mailchimp.listId,
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
    };
    expect(emailConfigFromEnv(source).mailchimp.maxConnections).toBe(10);
    expect(emailConfigFromEnv({ ...source, MAILCHIMP_MAX_CONNECTIONS: '4' }).mailchimp.maxConnections).toBe(
      4,
    );
  });

  describe('with a record cache and a lower connection cap', () => {
    let slow: RunningSandbox;
    let cached: SubgraphServer;
    let cachedListening: Listening;

    async function postCached<T>(
      scopes: readonly Scope[],
      query: string,
      variables: Record<string, unknown>,
    ): Promise<GraphQLBody<T>> {
      const response = await fetch(`${cachedListening.origin}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await gateway.mint(scopes)}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLBody<T>;
    }

    beforeAll(async () => {
      slow = await startSandbox('mailchimp', { world: sandbox.world, latencyMs: 50 });
      cached = await buildEmailSubgraph(
        {
          mailchimp: {
            baseUrl: slow.baseUrl,
            apiKey: DEMO_CREDENTIALS.mailchimp.apiKey,
            listId: DEMO_CREDENTIALS.mailchimp.listId,
            maxConnections: 2,
          },
          upstreamTimeoutMs: 5_000,
          upstreamMaxRetries: 0,
          auth: gateway.auth,
          cache: {
            store: createCacheStore({ maxEntries: 10_000, logger: silentLogger }),
            ttls: { profile: 60, subscription: 60, orders: 60, campaignReports: 60 },
          },
        },
        silentLogger,
      );
      cachedListening = await listen(cached.server, 0, '127.0.0.1');
    });
    afterAll(async () => {
      await cachedListening.close();
      await cached.stop();
      await slow.close();
    });
    beforeEach(async () => {
      await slow.resetStats();
    });

    it('should keep at most 2 calls in flight when MAILCHIMP_MAX_CONNECTIONS is 2', async () => {
      const people = sandbox.world.customers.slice(150, 153);
      const body = await postCached<{ _entities: { emailSubscription: { status: string } | null }[] }>(
        CUSTOMERS_SCOPES,
        CUSTOMERS,
        { representations: people.map((c) => ({ __typename: 'Customer', email: c.person.email })) },
      );
      expect(body.data?._entities.map((e) => e.emailSubscription?.status ?? null)).toEqual(
        people.map((c) => c.audience?.status.toUpperCase() ?? null),
      );
      const stats = await slow.stats();
      expect(stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']?.count).toBe(3);
      expect(stats.maxConcurrent).toBe(2);
    });

    it('should resolve 100 customers with one scan of 1 + ceil(members/1000) calls, then from the cache', async () => {
      const people = sandbox.world.customers.slice(0, 100).reverse();
      const representations = [
        ...people.map((c) => ({ __typename: 'Customer', email: c.person.email })),
        { __typename: 'Customer', email: 'ghost-member@example.invalid' },
      ];
      const expected = [...people.map((c) => c.audience?.status.toUpperCase() ?? null), null];
      const read = async () => {
        const body = await postCached<{ _entities: { emailSubscription: { status: string } | null }[] }>(
          CUSTOMERS_SCOPES,
          CUSTOMERS,
          { representations },
        );
        expect(body.errors).toBeUndefined();
        return body.data?._entities.map((e) => e.emailSubscription?.status ?? null);
      };
      expect(await read()).toEqual(expected);
      const members = sandbox.world.customers.filter((c) => c.audience).length;
      const stats = await slow.stats();
      expect(stats.endpoints['GET /3.0/lists/{listId}']?.count).toBe(1);
      expect(stats.endpoints['GET /3.0/lists/{listId}/members']?.count).toBe(Math.ceil(members / 1000));
      expect(stats.total).toBe(1 + Math.ceil(members / 1000));
      await slow.resetStats();
      expect(await read()).toEqual(expected);
      expect((await slow.stats()).total).toBe(0);
    });
  });

  it('should add up only the campaigns of the key whose send day (UTC) is in the range', () => {
    const campaign = (id: string, sentAt: string, campaignKey: string | null, sent: number) => ({
      id,
      title: id,
      subjectLine: id,
      sentAt,
      campaignKey,
      stats: emailStats(sent, sent / 2, sent / 4),
    });
    const campaigns: EmailCampaignRecord[] = [
      campaign('before', '2026-02-28T23:59:59.000Z', 'spring', 1000),
      campaign('first-day', '2026-03-01T00:00:00.000Z', 'spring', 400),
      campaign('last-day', '2026-03-10T23:59:59.000Z', 'spring', 200),
      campaign('after', '2026-03-11T00:00:00.000Z', 'spring', 1000),
      campaign('other-key', '2026-03-05T12:00:00.000Z', 'summer', 1000),
      campaign('untracked', '2026-03-05T12:00:00.000Z', null, 1000),
    ];
    expect(emailPerformance(campaigns, 'spring', '2026-03-01', '2026-03-10')).toEqual({
      emailsSent: 600,
      uniqueOpens: 300,
      uniqueClicks: 150,
      openRate: 0.5,
      clickRate: 0.25,
    });
    expect(emailPerformance(campaigns, 'autumn', '2026-03-01', '2026-03-10')).toEqual(emailStats(0, 0, 0));
    expect(emailStats(0, 0, 0)).toEqual({
      emailsSent: 0,
      uniqueOpens: 0,
      uniqueClicks: 0,
      openRate: 0,
      clickRate: 0,
    });
  });
});
