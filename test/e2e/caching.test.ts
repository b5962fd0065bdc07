import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_CLIENTS_FILE, type Stack } from '../../cli/stack.js';
import { buildGateway } from '../../gateway/server.js';
import { openCacheStore } from '../../lib/cache/config.js';
import { openEventLog } from '../../lib/events/log/open.js';
import { eventsSubgraphFor } from '../../cli/events-subgraph.js';
import { addDays } from '../../lib/dates.js';
import { listen } from '../../lib/server/listen.js';
import { silentLogger } from '../helpers/context.js';
import { DASHBOARD, PROFILE } from '../helpers/operations.js';
import { DEAD_REDIS_URL, REDIS_URL, redisSuite } from '../helpers/redis.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';

const range = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };

async function upstreamCalls(stack: Stack): Promise<number> {
  return Object.values(stack.sandboxes).reduce((sum, s) => sum + s.stats.snapshot().total, 0);
}
function resetStats(stack: Stack): void {
  for (const s of Object.values(stack.sandboxes)) s.stats.reset();
}

describe('response cache at the gateway (in-memory store)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });
  beforeEach(() => resetStats(stack));

  it('should serve a repeated Dashboard from the response cache: Age set, public max-age, zero upstream calls', async () => {
    const cold = await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
    expect(cold.body.errors).toBeUndefined();
    expect(cold.headers.get('cache-control')).toBe('max-age=600, public');
    expect(cold.headers.get('age')).toBeNull();
    const coldCalls = await upstreamCalls(stack);
    expect(coldCalls).toBeGreaterThan(0);
    const warm = await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
    expect(warm.body).toEqual(cold.body);
    expect(warm.headers.get('age')).toMatch(/^\d+$/);
    expect(await upstreamCalls(stack)).toBe(coldCalls);
  });

  it('should cache a PRIVATE Profile per client and never serve it to another client', async () => {
    const email = stack.world.customers[9]!.person.email;
    const asA = await graphql(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
    expect(asA.headers.get('cache-control')).toBe('max-age=120, private');
    const againAsA = await graphql(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
    expect(againAsA.headers.get('age')).toMatch(/^\d+$/);
    const asB = await graphql(stack.gatewayUrl, PROFILE, { email }, as('admin'));
    expect(asB.headers.get('age')).toBeNull();
    expect(asB.body).toEqual(asA.body);
  });

  it('should answer a warm Profile from the record caches without upstream calls even on a response-cache miss', async () => {
    const email = stack.world.customers[11]!.person.email;
    await graphql(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
    resetStats(stack);
    const other = await graphql(stack.gatewayUrl, PROFILE, { email }, as('admin'));
    expect(other.headers.get('age')).toBeNull();
    expect(other.body.errors).toBeUndefined();
    expect(await upstreamCalls(stack)).toBe(0);
  });

  it('should never cache a response with errors', async () => {
    const reversed = { since: TEST_ANCHOR_DATE, until: addDays(TEST_ANCHOR_DATE, -3) };
    const first = await graphql(stack.gatewayUrl, DASHBOARD, reversed, as('reporting-dashboard'));
    const second = await graphql(stack.gatewayUrl, DASHBOARD, reversed, as('reporting-dashboard'));
    expect(first.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(second.headers.get('age')).toBeNull();
    expect(second.headers.get('cache-control')).toBe('no-store');
  });
});

describe.runIf(REDIS_URL)(redisSuite('caches shared through Redis'), () => {
  it('should let a second gateway instance answer from the cache the first one filled', async () => {
    const namespace = `e2e-${process.pid}-${Date.now()}`;
    const stack = await startTestStack({ redisUrl: REDIS_URL, cacheNamespace: namespace });
    const store = openCacheStore(
      {
        redisUrl: REDIS_URL,
        maxEntries: 100,
        namespace,
        ttls: { profile: 60, subscription: 60, orders: 60, campaignReports: 60 },
      },
      silentLogger,
    );
    const secondLog = await openEventLog({ kind: 'sqlite', file: ':memory:' }, silentLogger);
    const second = await buildGateway(
      {
        supergraphFile: 'schema/supergraph.graphql',
        subgraphTimeoutMs: 10_000,
        mode: 'test',
        cacheStore: store,
        auth: { mode: 'test', clientsFile: DEMO_CLIENTS_FILE },
        gatewayTokenKey: stack.gatewayTokenKey,
        subgraphUrls: {
          crm: `${stack.origins.crm}/graphql`,
          email: `${stack.origins.email}/graphql`,
          commerce: `${stack.origins.commerce}/graphql`,
          ads: `${stack.origins.ads}/graphql`,
          messaging: `${stack.origins.messaging}/graphql`,
        },
        events: {
          log: secondLog,
          subgraph: await eventsSubgraphFor(secondLog, stack.gatewayTokenKey, silentLogger),
          webhooks: {},
          routingRules: [],
          retention: { maxAgeMs: 86_400_000, maxEvents: 1_000 },
        },
      },
      silentLogger,
    );
    const listening = await listen(second.server, 0, '127.0.0.1');
    try {
      const first = await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
      resetStats(stack);
      const fromSecond = await graphql(
        `${listening.origin}/graphql`,
        DASHBOARD,
        range,
        as('reporting-dashboard'),
      );
      expect(fromSecond.body).toEqual(first.body);
      expect(fromSecond.headers.get('age')).toMatch(/^\d+$/);
      expect(await upstreamCalls(stack)).toBe(0);
    } finally {
      await second.drain();
      await listening.close();
      await second.stop();
      await secondLog.close();
      await store.close();
      await stack.close();
    }
  });
});

describe('a cache outage', () => {
  it('should degrade to upstream calls without a single client error when Redis is down', async () => {
    const stack = await startTestStack({ redisUrl: DEAD_REDIS_URL });
    try {
      const email = stack.world.customers[2]!.person.email;
      const profile = await graphql(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
      const dashboard = await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
      const again = await graphql(stack.gatewayUrl, DASHBOARD, range, as('reporting-dashboard'));
      expect([profile.body.errors, dashboard.body.errors, again.body.errors]).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect((profile.body.data as { customer: { email: string } }).customer.email).toBe(email);
      expect(again.headers.get('age')).toBeNull();
    } finally {
      await stack.close();
    }
  });
});
