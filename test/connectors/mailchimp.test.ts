import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailchimpConnector, mailchimpBaseUrl } from '../../platforms/mailchimp/client/connector.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { Customer, EmailCampaign } from '../../sandboxes/world/world.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const { apiKey, listId } = DEMO_CREDENTIALS.mailchimp;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const basic = (key: string) => `Basic ${Buffer.from(`anystring:${key}`).toString('base64')}`;
const iso = (ms: number) => new Date(ms).toISOString();

describe('Mailchimp connector against the Mailchimp sandbox', () => {
  let sandbox: RunningSandbox;
  let mailchimp: MailchimpConnector;
  let members: Customer[];
  const connect = (overrides: Partial<ConstructorParameters<typeof MailchimpConnector>[0]> = {}) =>
    new MailchimpConnector({
      baseUrl: sandbox.baseUrl,
      apiKey,
      listId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const raw = (base: string, path: string, key: string = apiKey) =>
    fetch(`${base}${path}`, { headers: { authorization: basic(key) } });

  beforeAll(async () => {
    sandbox = await startSandbox('mailchimp', { customers: 250 });
    mailchimp = connect();
    members = sandbox.world.customers.filter((c) => c.audience);
  });
  afterAll(async () => {
    await mailchimp.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should page through every member with count and offset up to total_items', async () => {
    const emails: string[] = [];
    let total = Number.NaN;
    let pages = 0;
    for (let offset = 0; pages === 0 || offset < total; offset += 100) {
      const page = await mailchimp.listMembers(testRequest(), { count: 100, offset });
      emails.push(...page.members.map((m) => m.email));
      total = page.total;
      pages++;
    }
    expect(total).toBe(members.length);
    expect(pages).toBe(Math.ceil(members.length / 100));
    expect(emails).toEqual(members.map((c) => c.person.email));
  });

  it('should normalise a member into the graph conventions', async () => {
    const truth = members.find((c) => c.audience?.optedInAt !== null)!;
    const audience = truth.audience!;
    const member = await mailchimp.getMember(testRequest(), truth.person.email.toUpperCase());
    expect(member).toEqual({
      email: truth.person.email,
      status: audience.status.toUpperCase(),
      memberRating: audience.memberRating,
      // Mailchimp keeps whole seconds.
      optedInAt: iso(Math.floor(audience.optedInAt! / 1000) * 1000),
      lastChangedAt: iso(Math.floor(audience.lastChangedAt / 1000) * 1000),
      vip: audience.vip,
      avgOpenRate: audience.avgOpenRate,
      avgClickRate: audience.avgClickRate,
    });
  });

  it('should map a pending member without an opt-in time to optedInAt null', async () => {
    const world = sandbox.world;
    const pending = world.customers.find((c) => c.audience?.optedInAt === null);
    // Seed 7 with 250 customers has pending members; fail loudly if the world ever stops having one.
    expect(pending).toBeDefined();
    const member = await mailchimp.getMember(testRequest(), pending!.person.email);
    expect(member).toMatchObject({ status: 'PENDING', optedInAt: null });
  });

  it('should find a member by subscriber hash, by email address and by contact id', async () => {
    const truth = members[7]!;
    const paths = [
      md5(truth.person.email),
      encodeURIComponent(truth.person.email.toUpperCase()),
      truth.audience!.contactId,
    ];
    for (const key of paths) {
      const response = await raw(sandbox.baseUrl, `/lists/${listId}/members/${key}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        id: md5(truth.person.email),
        email_address: truth.person.email,
        list_id: listId,
        merge_fields: { FNAME: truth.person.firstName, LNAME: truth.person.lastName },
      });
    }
  });

  it('should answer null for an address that is not in the audience', async () => {
    const outsider = sandbox.world.customers.find((c) => !c.audience)!;
    expect(await mailchimp.getMember(testRequest(), outsider.person.email)).toBeNull();
    expect(await mailchimp.getMember(testRequest(), 'nobody@example.invalid')).toBeNull();
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']?.statuses).toEqual({
      '404': 2,
    });
  });

  it('should describe the audience with its member counts per status', async () => {
    const count = (status: string) => members.filter((c) => c.audience?.status === status).length;
    const response = await raw(sandbox.baseUrl, `/lists/${listId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: listId,
      name: expect.any(String),
      stats: {
        member_count: count('subscribed'),
        unsubscribe_count: count('unsubscribed'),
        cleaned_count: count('cleaned'),
        total_contacts: members.length,
        campaign_count: sandbox.world.emailCampaigns.length,
      },
    });
    const picked = await raw(sandbox.baseUrl, `/lists/${listId}?fields=id,stats.total_contacts`);
    expect(await picked.json()).toEqual({ id: listId, stats: { total_contacts: members.length } });
    expect((await raw(sandbox.baseUrl, '/lists/0000000000')).status).toBe(404);
  });

  it('should answer 404 problem+json for an unknown list', async () => {
    const response = await raw(sandbox.baseUrl, '/lists/0000000000/members');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ title: 'Resource Not Found', status: 404 });
  });

  it('should list the sent campaigns of a range across pages and match the reports', async () => {
    const since = addDays(sandbox.world.windowStart, 10);
    const until = addDays(since, 40);
    const inRange = (c: EmailCampaign) => {
      const day = iso(c.sentAt).slice(0, 10);
      return day >= since && day <= until;
    };
    const expected = sandbox.world.emailCampaigns.filter(inRange);
    expect(expected.length).toBeGreaterThan(1);
    const campaigns = await mailchimp.listSentCampaigns(testRequest(), {
      sinceMs: Date.parse(`${since}T00:00:00.000Z`),
      untilMs: Date.parse(`${until}T23:59:59.999Z`),
    });
    expect(campaigns.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    const truth = expected[0]!;
    expect(campaigns[0]).toEqual({
      id: truth.id,
      title: truth.title,
      subjectLine: truth.subjectLine,
      sentAt: iso(truth.sentAt),
      campaignKey: truth.key,
      stats: {
        emailsSent: truth.emailsSent,
        uniqueOpens: truth.uniqueOpens,
        uniqueClicks: truth.uniqueClicks,
        openRate: truth.uniqueOpens / truth.emailsSent,
        clickRate: truth.uniqueClicks / truth.emailsSent,
      },
    });
    const report = await mailchimp.getReport(testRequest(), truth.id);
    expect(report).toEqual({
      id: truth.id,
      title: truth.title,
      sentAt: iso(truth.sentAt),
      stats: campaigns[0]!.stats,
      totalOpens: truth.opensTotal,
      totalClicks: truth.clicksTotal,
      unsubscribed: truth.unsubscribed,
      hardBounces: truth.hardBounces,
      softBounces: truth.softBounces,
    });
    expect(await mailchimp.getReport(testRequest(), 'ffffffffff')).toBeNull();
  });

  it('should filter campaigns by send time, since inclusive and before exclusive', async () => {
    const all = sandbox.world.emailCampaigns;
    const since = all[2]!.sentAt;
    const before = all[5]!.sentAt;
    const response = await raw(
      sandbox.baseUrl,
      `/campaigns?status=sent&since_send_time=${encodeURIComponent(iso(since))}&before_send_time=${encodeURIComponent(iso(before))}&fields=campaigns.id,total_items`,
    );
    const expected = all.filter((c) => c.sentAt >= since && c.sentAt < before).map((c) => ({ id: c.id }));
    expect(expected.length).toBeGreaterThan(0);
    expect(await response.json()).toEqual({ campaigns: expected, total_items: expected.length });
  });

  it('should follow campaign pages until total_items', async () => {
    const all = sandbox.world.emailCampaigns;
    const response = await raw(sandbox.baseUrl, `/campaigns?status=sent&count=2&offset=${all.length - 1}`);
    const body = (await response.json()) as { campaigns: { id: string }[]; total_items: number };
    expect(body.total_items).toBe(all.length);
    expect(body.campaigns.map((c) => c.id)).toEqual([all[all.length - 1]!.id]);
  });

  it('should honour fields and exclude_fields with dot paths through arrays', async () => {
    const picked = await raw(
      sandbox.baseUrl,
      `/lists/${listId}/members?count=3&fields=members.email_address,members.stats.avg_open_rate,total_items`,
    );
    expect(await picked.json()).toEqual({
      members: members.slice(0, 3).map((c) => ({
        email_address: c.person.email,
        stats: { avg_open_rate: c.audience!.avgOpenRate },
      })),
      total_items: members.length,
    });
    const trimmed = (await (
      await raw(
        sandbox.baseUrl,
        `/lists/${listId}/members?count=2&exclude_fields=members.merge_fields,_links`,
      )
    ).json()) as Record<string, unknown> & { members: Record<string, unknown>[] };
    expect(Object.keys(trimmed).sort()).toEqual(['list_id', 'members', 'total_items']);
    expect(trimmed.members).toHaveLength(2);
    expect(trimmed.members[0]).not.toHaveProperty('merge_fields');
    expect(trimmed.members[0]).toHaveProperty('email_address', members[0]!.person.email);
  });

  it('should reject a count above 1000 with an Invalid Resource problem naming the field', async () => {
    const response = await raw(sandbox.baseUrl, `/lists/${listId}/members?count=1001`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      title: 'Invalid Resource',
      status: 400,
      errors: [{ field: 'count' }],
    });
  });

  it('should answer ping', async () => {
    const response = await raw(sandbox.baseUrl, '/ping');
    expect(await response.json()).toEqual({ health_status: "Everything's Chimpy!" });
  });

  it('should turn a wrong API key into UPSTREAM_UNAUTHORIZED naming mailchimp, without the key', async () => {
    const wrongKey = 'f00dfeedf00dfeedf00dfeedf00dfeed-us21';
    const wrong = connect({ apiKey: wrongKey });
    const error = await wrong.listMembers(testRequest(), { count: 5, offset: 0 }).catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAUTHORIZED',
      platform: 'mailchimp',
      upstreamStatus: 401,
      upstreamCode: 'API Key Invalid',
    });
    expect((error as UpstreamError).message).toMatch(/^mailchimp: rejected our credentials: API Key Invalid/);
    expect((error as UpstreamError).message).not.toContain(wrongKey);
    const response = await raw(sandbox.baseUrl, '/ping', wrongKey);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title: 'API Key Invalid',
      status: 401,
      detail: "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('should wait out an injected 429 and succeed on retry', async () => {
    await sandbox.setFaults({
      rateLimitRate: 1,
      remaining: 1,
      endpoints: ['GET /3.0/lists/{listId}/members'],
    });
    const page = await mailchimp.listMembers(testRequest(), { count: 5, offset: 0 });
    expect(page.members.map((m) => m.email)).toEqual(members.slice(0, 5).map((c) => c.person.email));
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /3.0/lists/{listId}/members']?.statuses).toEqual({ '200': 1, '429': 1 });
  });

  it('should report a 429 that outlasts the retries as UPSTREAM_RATE_LIMITED', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, endpoints: ['GET /3.0/campaigns'] });
    const error = await mailchimp
      .listSentCampaigns(testRequest(), { sinceMs: 0, untilMs: Date.now() })
      .catch((e: unknown) => e);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'mailchimp',
      upstreamCode: 'Too Many Requests',
    });
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /3.0/campaigns']?.count).toBe(3);
  });

  it('should reject a malformed payload with a clear error naming the platform and field', async () => {
    await sandbox.setFaults({ malformedRate: 1, endpoints: ['GET /3.0/lists/{listId}/members'] });
    const error = await mailchimp
      .listMembers(testRequest(), { count: 5, offset: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions['code']).toBe('UPSTREAM_BAD_RESPONSE');
    expect((error as UpstreamError).message).toMatch(
      /^mailchimp returned an unexpected payload from GET \/lists\/\{list_id\}\/members: members: /,
    );
  });

  describe('with slow responses, so requests overlap', () => {
    let slow: RunningSandbox;
    beforeAll(async () => {
      slow = await startSandbox('mailchimp', { world: sandbox.world, latencyMs: 300 });
    });
    afterAll(async () => {
      await slow.close();
    });

    it('should answer the 11th simultaneous request 429 with the problem body', async () => {
      const responses = await Promise.all(
        Array.from({ length: 11 }, () => raw(slow.baseUrl, `/lists/${listId}/members?count=1`)),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
      const rejected = responses.find((r) => r.status === 429)!;
      expect(rejected.headers.get('retry-after')).toBeNull();
      expect(await rejected.json()).toMatchObject({
        type: 'https://mailchimp.com/developer/marketing/docs/errors/',
        title: 'Too Many Requests',
        status: 429,
        detail: 'You have exceeded the limit of 10 simultaneous connections.',
      });
      await Promise.all(responses.filter((r) => r !== rejected).map((r) => r.arrayBuffer()));
    });

    it('should read 50 members in parallel without ever exceeding 10 in flight', async () => {
      const slowMailchimp = new MailchimpConnector({
        baseUrl: slow.baseUrl,
        apiKey,
        listId,
        timeoutMs: 5_000,
        maxRetries: 0,
      });
      await slow.resetStats();
      const people = sandbox.world.customers.slice(0, 50);
      try {
        const found = await Promise.all(
          people.map((c) => slowMailchimp.getMember(testRequest(), c.person.email.toUpperCase())),
        );
        expect(found.map((m) => m?.status ?? null)).toEqual(
          people.map((c) => c.audience?.status.toUpperCase() ?? null),
        );
        const stats = await slow.stats();
        expect(stats.maxConcurrent).toBe(10);
        expect(stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']?.count).toBe(50);
      } finally {
        await slowMailchimp.close();
      }
    });

    it('should keep overlapping batches of one connector within 10 connections together', async () => {
      const slowMailchimp = new MailchimpConnector({
        baseUrl: slow.baseUrl,
        apiKey,
        listId,
        timeoutMs: 5_000,
        maxRetries: 0,
      });
      await slow.resetStats();
      const emails = sandbox.world.customers.map((c) => c.person.email);
      // Batches of three are read member by member (a scan would not be cheaper), so they overlap.
      const batches = Array.from({ length: 10 }, (_, i) => emails.slice(i * 3, i * 3 + 3));
      try {
        const found = await Promise.all(
          batches.map((batch) => slowMailchimp.getMembers(testRequest(), batch)),
        );
        expect(found.reduce((sum, batch) => sum + batch.size, 0)).toBe(30);
        const stats = await slow.stats();
        expect(stats.maxConcurrent).toBe(10);
        expect(stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']).toMatchObject({
          count: 30,
        });
        expect(
          stats.endpoints['GET /3.0/lists/{listId}/members/{subscriberHash}']?.statuses['429'],
        ).toBeUndefined();
      } finally {
        await slowMailchimp.close();
      }
    });
  });

  it('should derive the base URL and account id from the key data centre', () => {
    expect(mailchimpBaseUrl(apiKey)).toBe('https://us21.api.mailchimp.com/3.0');
    expect(mailchimp.accountId).toBe(`us21:${listId}`);
    const noSuffix = 'abcdef0123456789abcdef0123456789';
    expect(() => mailchimpBaseUrl(noSuffix)).toThrow(/no data centre suffix/);
    expect(() => mailchimpBaseUrl(noSuffix)).not.toThrow(noSuffix);
  });
});
