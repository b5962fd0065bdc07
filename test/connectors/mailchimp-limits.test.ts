import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MailchimpConnector,
  mailchimpAccountId,
  type MailchimpSettings,
  type MemberOutcome,
} from '../../platforms/mailchimp/client/connector.js';
import { ObservedConcurrencyPolicy } from '../../platforms/mailchimp/client/limits.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { createCacheStore } from '../../lib/cache/store.js';
import { UpstreamError } from '../../lib/errors.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { createMailchimpSandbox } from '../../platforms/mailchimp/sandbox/index.js';
import { sandboxBaseUrl } from '../../sandboxes/registry.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const { apiKey, listId } = DEMO_CREDENTIALS.mailchimp;
const ttls = { profile: 60, subscription: 60, orders: 60, campaignReports: 60 };
const ENDPOINT = {
  list: 'GET /3.0/lists/{listId}',
  members: 'GET /3.0/lists/{listId}/members',
  member: 'GET /3.0/lists/{listId}/members/{subscriberHash}',
  campaigns: 'GET /3.0/campaigns',
  report: 'GET /3.0/reports/{campaignId}',
} as const;
const GHOST = 'ghost-member@example.invalid';

/** What a look-up should answer for an address, from the seeded world. */
const statusOf = (customer: Customer | undefined) => customer?.audience?.status.toUpperCase() ?? null;
const statusIn = (outcome: MemberOutcome | undefined) =>
  outcome instanceof Error ? outcome : (outcome?.status ?? null);

describe('Mailchimp connector: batching, cache, throttle and breaker', () => {
  let sandbox: RunningSandbox;
  let inAudience: Customer[];
  let outsiders: Customer[];
  const connect = (overrides: Partial<MailchimpSettings> = {}) =>
    new MailchimpConnector({
      baseUrl: sandbox.baseUrl,
      apiKey,
      listId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const cacheFor = (ttl = 60) =>
    new RecordCache(
      createCacheStore({ maxEntries: 50_000, logger: silentLogger }),
      'mailchimp',
      mailchimpAccountId(apiKey, listId),
      { ...ttls, subscription: ttl, campaignReports: ttl },
    );
  const calls = async (endpoint: string) => (await sandbox.stats()).endpoints[endpoint]?.count ?? 0;

  beforeAll(async () => {
    // The demo's default size: 2,000 customers, most of them in the audience.
    sandbox = await startSandbox('mailchimp', { customers: 2_000 });
    inAudience = sandbox.world.customers.filter((c) => c.audience);
    outsiders = sandbox.world.customers.filter((c) => !c.audience);
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  describe('batching', () => {
    /** `n` addresses from the world, newest customers first, some upper case, with a ghost in the middle. */
    const addresses = (n: number) => {
      const picked = sandbox.world.customers
        .slice(0, n - 1)
        .reverse()
        .map((c, i) => (i % 7 === 0 ? c.person.email.toUpperCase() : c.person.email));
      picked.splice(Math.floor(n / 2), 0, GHOST);
      return picked;
    };
    const expectAnswers = (asked: readonly string[], found: Map<string, MemberOutcome>) => {
      const normalised = asked.map((e) => e.toLowerCase());
      expect([...found.keys()]).toEqual(normalised);
      expect(normalised.map((e) => statusIn(found.get(e)))).toEqual(
        normalised.map((e) => statusOf(sandbox.world.byEmail.get(e))),
      );
    };

    it('should see an audience of more than 1,000 and at most 2,000 members, so a scan is 2 pages', () => {
      expect(Math.ceil(inAudience.length / 1000)).toBe(2);
    });

    it('should read 100 addresses cold in 1 + ceil(members/1000) = 3 calls, in the order asked, missing null', async () => {
      const mailchimp = connect({ cache: cacheFor() });
      try {
        const asked = addresses(100);
        const found = await mailchimp.getMembers(testRequest(), asked);
        expectAnswers(asked, found);
        expect(found.get(GHOST)).toBeNull();
        const stats = await sandbox.stats();
        expect(stats.endpoints[ENDPOINT.list]?.count).toBe(1);
        expect(stats.endpoints[ENDPOINT.members]?.count).toBe(Math.ceil(inAudience.length / 1000));
        expect(stats.total).toBe(3);
        // Every member the scan saw is now a cache hit, asked for or not.
        await sandbox.resetStats();
        const others = inAudience.slice(-50).map((c) => c.person.email);
        const warm = await mailchimp.getMembers(testRequest(), others);
        expect(others.map((e) => statusIn(warm.get(e)))).toEqual(
          inAudience.slice(-50).map((c) => statusOf(c)),
        );
        expect((await sandbox.stats()).total).toBe(0);
      } finally {
        await mailchimp.close();
      }
    });

    it('should read 500 addresses cold and without a cache in 1 + ceil(members/1000) = 3 calls', async () => {
      const mailchimp = connect();
      try {
        const asked = addresses(500);
        expectAnswers(asked, await mailchimp.getMembers(testRequest(), asked));
        const stats = await sandbox.stats();
        expect(stats.endpoints[ENDPOINT.list]?.count).toBe(1);
        expect(stats.endpoints[ENDPOINT.members]?.count).toBe(2);
        expect(stats.endpoints[ENDPOINT.member]).toBeUndefined();
        expect(stats.total).toBe(3);
      } finally {
        await mailchimp.close();
      }
    });

    it('should read 3 addresses cold with 3 member GETs, and with the size cached by a 2-page scan', async () => {
      const mailchimp = connect({ cache: cacheFor() });
      try {
        const asked = [outsiders[0]!.person.email, inAudience[0]!.person.email, GHOST];
        expectAnswers(asked, await mailchimp.getMembers(testRequest(), asked));
        expect((await sandbox.stats()).endpoints).toEqual({
          [ENDPOINT.member]: { count: 3, statuses: { '200': 1, '404': 2 } },
        });
        // A batch of 4 learns the audience size (1 + 2 pages, cheaper than 4 GETs) and caches it.
        await mailchimp.getMembers(
          testRequest(),
          outsiders.slice(1, 5).map((c) => c.person.email),
        );
        await sandbox.resetStats();
        // Now 3 addresses cost 2 pages instead of 3 GETs (outsiders, so none is cached yet).
        const more = outsiders.slice(5, 8).map((c) => c.person.email.toUpperCase());
        expectAnswers(more, await mailchimp.getMembers(testRequest(), more));
        expect((await sandbox.stats()).endpoints).toEqual({
          [ENDPOINT.members]: { count: 2, statuses: { '200': 2 } },
        });
      } finally {
        await mailchimp.close();
      }
    });
  });

  describe('cache', () => {
    const range = (sinceDays: number, days: number) => {
      const sinceMs = Date.parse(`${sandbox.world.windowStart}T00:00:00.000Z`) + sinceDays * 86_400_000;
      return { sinceMs, untilMs: sinceMs + days * 86_400_000 - 1 };
    };

    it('should answer a second read of members, absences, campaign listings and reports with zero upstream calls', async () => {
      const mailchimp = connect({ cache: cacheFor() });
      try {
        const member = inAudience[3]!.person.email;
        const outsider = outsiders[3]!.person.email;
        const campaign = sandbox.world.emailCampaigns[0]!;
        const read = async () => ({
          member: await mailchimp.getMember(testRequest(), member),
          outsider: await mailchimp.getMember(testRequest(), outsider),
          campaigns: await mailchimp.listSentCampaigns(testRequest(), range(0, 60)),
          report: await mailchimp.getReport(testRequest(), campaign.id),
        });
        const first = await read();
        expect(first.member?.email).toBe(member);
        expect(first.outsider).toBeNull();
        expect(first.report?.id).toBe(campaign.id);
        expect((await sandbox.stats()).total).toBe(4);
        await sandbox.resetStats();
        expect(await read()).toEqual(first);
        expect((await sandbox.stats()).total).toBe(0);
      } finally {
        await mailchimp.close();
      }
    });

    it('should go upstream again after invalidateMember', async () => {
      const mailchimp = connect({ cache: cacheFor() });
      try {
        const email = inAudience[4]!.person.email;
        await mailchimp.getMember(testRequest(), email);
        await mailchimp.getMember(testRequest(), email);
        expect(await calls(ENDPOINT.member)).toBe(1);
        await mailchimp.invalidateMember(email.toUpperCase());
        expect((await mailchimp.getMember(testRequest(), email))?.email).toBe(email);
        expect(await calls(ENDPOINT.member)).toBe(2);
      } finally {
        await mailchimp.close();
      }
    });

    it('should go upstream again once the TTL has passed', async () => {
      const mailchimp = connect({ cache: cacheFor(1) });
      try {
        const email = inAudience[5]!.person.email;
        await mailchimp.getMember(testRequest(), email);
        await mailchimp.listSentCampaigns(testRequest(), range(10, 30));
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await mailchimp.getMember(testRequest(), email);
        await mailchimp.listSentCampaigns(testRequest(), range(10, 30));
        expect(await calls(ENDPOINT.member)).toBe(2);
        expect(await calls(ENDPOINT.campaigns)).toBe(2);
      } finally {
        await mailchimp.close();
      }
    });

    it('should not cache a failure, and fail only the address it belongs to', async () => {
      const mailchimp = connect({ cache: cacheFor(), maxRetries: 0 });
      try {
        const [first, second] = [inAudience[6]!.person.email, inAudience[7]!.person.email];
        await sandbox.setFaults({ errorRate: 1, remaining: 1, endpoints: [ENDPOINT.member] });
        const found = await mailchimp.getMembers(testRequest(), [first, second]);
        const failed = [...found.values()].filter((v) => v instanceof UpstreamError);
        expect(failed).toHaveLength(1);
        expect((failed[0] as UpstreamError).extensions).toMatchObject({
          code: 'UPSTREAM_ERROR',
          platform: 'mailchimp',
          upstreamStatus: 500,
        });
        expect([...found.values()].filter((v) => v !== null && !(v instanceof Error))).toHaveLength(1);
        // Only the failed address goes upstream again; then both are cached.
        const again = await mailchimp.getMembers(testRequest(), [first, second]);
        expect([again.get(first), again.get(second)].map((m) => statusIn(m))).toEqual([
          statusOf(inAudience[6]),
          statusOf(inAudience[7]),
        ]);
        await mailchimp.getMembers(testRequest(), [first, second]);
        expect((await sandbox.stats()).endpoints[ENDPOINT.member]?.statuses).toEqual({
          '200': 2,
          '500': 1,
        });
      } finally {
        await mailchimp.close();
      }
    });
  });

  describe('throttle', () => {
    let slow: RunningSandbox;
    beforeAll(async () => {
      slow = await startSandbox('mailchimp', { world: sandbox.world, latencyMs: 50 });
    });
    afterAll(async () => {
      await slow.close();
    });
    beforeEach(async () => {
      await slow.resetStats();
    });
    const connectSlow = (overrides: Partial<MailchimpSettings> = {}) =>
      connect({ baseUrl: slow.baseUrl, maxRetries: 0, ...overrides });
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'ok',
        (e: unknown) =>
          e instanceof UpstreamError ? `${e.extensions['code']}/${e.extensions['upstreamCode']}` : 'other',
      );

    it('should queue a burst of 60 calls (6 times the 10 connections) so Mailchimp answers no 429', async () => {
      const mailchimp = connectSlow();
      try {
        const people = sandbox.world.customers.slice(0, 60);
        const found = await Promise.all(
          people.map((c) => mailchimp.getMember(testRequest(), c.person.email)),
        );
        expect(found.map((m) => m?.status ?? null)).toEqual(people.map((c) => statusOf(c)));
        const stats = await slow.stats();
        expect(stats.maxConcurrent).toBe(10);
        expect(stats.endpoints[ENDPOINT.member]?.count).toBe(60);
        expect(stats.endpoints[ENDPOINT.member]?.statuses['429']).toBeUndefined();
      } finally {
        await mailchimp.close();
      }
    });

    it("should share one account's 10 connections between two connectors of one process (a subgraph and a sync), so Mailchimp answers no 429", async () => {
      const reads = connectSlow();
      const syncWrites = connectSlow();
      try {
        const people = sandbox.world.customers.slice(0, 60);
        await Promise.all(
          people.map((c, i) => (i % 2 === 0 ? reads : syncWrites).getMember(testRequest(), c.person.email)),
        );
        const stats = await slow.stats();
        expect(stats.endpoints[ENDPOINT.member]?.count).toBe(60);
        expect(stats.maxConcurrent).toBe(10);
        expect(stats.endpoints[ENDPOINT.member]?.statuses['429']).toBeUndefined();
      } finally {
        await reads.close();
        await syncWrites.close();
      }
    });

    it('should fail the calls that cannot start before a short deadline fast with CLIENT_THROTTLE, and send no 429', async () => {
      const mailchimp = connectSlow();
      try {
        const people = sandbox.world.customers.slice(0, 100);
        const outcomes = await Promise.all(
          people.map((c) => outcome(mailchimp.getMember(testRequest(1_000), c.person.email))),
        );
        const ok = outcomes.filter((o) => o === 'ok').length;
        expect(new Set(outcomes)).toEqual(new Set(['ok', 'UPSTREAM_RATE_LIMITED/CLIENT_THROTTLE']));
        const statuses = (await slow.stats()).endpoints[ENDPOINT.member]?.statuses ?? {};
        expect(statuses['429']).toBeUndefined();
        // Every call that went out succeeded; the others never reached Mailchimp.
        expect(Object.values(statuses).reduce((sum, n) => sum + n, 0)).toBe(ok);
      } finally {
        await mailchimp.close();
      }
    });

    it('should learn a smaller connection cap from the first 429s, then send no more', async () => {
      // Mailchimp allows 4 here; the connector believes the documented 10.
      const limited = createSandboxServer(
        createMailchimpSandbox({ world: sandbox.world, apiKey, listId, maxConnections: 4 }),
        { logger: silentLogger, latencyMs: 100 },
      );
      const listening = await listen(limited.server, 0, '127.0.0.1');
      const mailchimp = connect({ baseUrl: sandboxBaseUrl('mailchimp', listening.origin) });
      const burst = (from: number) =>
        Promise.all(
          sandbox.world.customers
            .slice(from, from + 30)
            .map((c) => outcome(mailchimp.getMember(testRequest(), c.person.email))),
        );
      const rejected = () => limited.stats.snapshot().endpoints[ENDPOINT.member]?.statuses['429'] ?? 0;
      try {
        expect(await burst(0)).toEqual(Array.from({ length: 30 }, () => 'ok'));
        const first = rejected();
        // Only the first wave (10 sent, 4 let through) can have met the real cap.
        expect(first).toBeGreaterThanOrEqual(1);
        expect(first).toBeLessThanOrEqual(6);
        expect(await burst(30)).toEqual(Array.from({ length: 30 }, () => 'ok'));
        expect(rejected()).toBe(first);
      } finally {
        await mailchimp.close();
        await listening.close();
      }
    });

    it('should lower the cap to the calls in flight at a 429 and raise it one per quiet period', () => {
      const policy = new ObservedConcurrencyPolicy(10, 5_000);
      for (let i = 0; i < 7; i++) policy.take(1_000);
      policy.finish(1_010);
      policy.observe({}, 429, 1_010);
      expect(policy.currentCap).toBe(6);
      expect(policy.delayMs()).toBe(Infinity);
      policy.finish(1_020);
      expect(policy.delayMs()).toBe(0);
      policy.observe({}, 200, 3_000);
      expect(policy.currentCap).toBe(6);
      policy.observe({}, 200, 6_010);
      expect(policy.currentCap).toBe(7);
      policy.observe({}, 200, 6_020);
      expect(policy.currentCap).toBe(7);
    });
  });

  describe('circuit breaker', () => {
    it('should open after 5 failures and then fail with CIRCUIT_OPEN without calling Mailchimp', async () => {
      const mailchimp = connect({ maxRetries: 0 });
      try {
        await sandbox.setFaults({ errorRate: 1 });
        const emails = inAudience.slice(0, 8).map((c) => c.person.email);
        for (const email of emails.slice(0, 5))
          await expect(mailchimp.getMember(testRequest(), email)).rejects.toMatchObject({
            extensions: { code: 'UPSTREAM_ERROR', upstreamStatus: 500 },
          });
        expect((await sandbox.stats()).total).toBe(5);
        for (const email of emails.slice(5)) {
          const error = await mailchimp.getMember(testRequest(), email).catch((e: unknown) => e);
          expect((error as UpstreamError).extensions).toMatchObject({
            code: 'UPSTREAM_UNAVAILABLE',
            platform: 'mailchimp',
            upstreamCode: 'CIRCUIT_OPEN',
          });
        }
        expect((await sandbox.stats()).total).toBe(5);
      } finally {
        await mailchimp.close();
      }
    });
  });
});
