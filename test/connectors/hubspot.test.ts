import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import { lifecycleStageOf } from '../../platforms/hubspot/client/records.js';
import { UpstreamError } from '../../lib/errors.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

describe('HubSpot connector against the HubSpot sandbox', () => {
  let sandbox: RunningSandbox;
  let hubspot: HubSpotConnector;
  const connect = (overrides: Partial<ConstructorParameters<typeof HubSpotConnector>[0]> = {}) =>
    new HubSpotConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
      accountId: DEMO_CREDENTIALS.hubspot.accountId,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { customers: 250 });
    hubspot = connect();
  });
  afterAll(async () => {
    await hubspot.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should page through every contact with after cursors, in id order, without repeats', async () => {
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await hubspot.listContacts(testRequest(), { limit: 100, ...(after ? { after } : {}) });
      ids.push(...page.customers.map((c) => c.id));
      after = page.nextAfter;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(ids).toEqual([...ids].sort((a, b) => Number(a) - Number(b)));
  });

  it('should normalise a contact into the graph conventions', async () => {
    const truth = sandbox.world.customers[3]!;
    const customer = await hubspot.getContact(testRequest(), {
      by: 'email',
      email: truth.person.email.toUpperCase(),
    });
    expect(customer).toEqual({
      id: truth.crm.id,
      email: truth.person.email,
      firstName: truth.person.firstName,
      lastName: truth.person.lastName,
      phone: truth.person.phone,
      lifecycleStage: expect.stringMatching(/^[A-Z_]+$/),
      createdAt: new Date(truth.crm.createdAt).toISOString(),
      updatedAt: new Date(truth.crm.updatedAt).toISOString(),
    });
  });

  it('should answer null for a contact HubSpot does not have', async () => {
    expect(await hubspot.getContact(testRequest(), { by: 'id', id: '999999999' })).toBeNull();
    expect(
      await hubspot.getContact(testRequest(), { by: 'email', email: 'nobody@example.invalid' }),
    ).toBeNull();
  });

  it('should batch-read 100 contacts by email in one call and map the missing ones to null (207)', async () => {
    const emails = sandbox.world.customers.slice(0, 98).map((c) => c.person.email);
    const keys = [...emails, 'ghost-1@example.invalid', 'ghost-2@example.invalid'];
    const found = await hubspot.batchReadContacts(testRequest(), 'email', keys);
    expect(found.size).toBe(100);
    expect(found.get(emails[10]!)).toMatchObject({ email: emails[10] });
    expect(found.get('ghost-1@example.invalid')).toBeNull();
    const stats = await sandbox.stats();
    expect(stats.endpoints['POST /crm/v3/objects/contacts/batch/read']).toEqual({
      count: 1,
      statuses: { '207': 1 },
    });
  });

  it('should refuse a batch larger than HubSpot accepts before calling it', async () => {
    const keys = sandbox.world.customers.slice(0, 101).map((c) => c.crm.id);
    await expect(hubspot.batchReadContacts(testRequest(), 'id', keys)).rejects.toThrow(RangeError);
  });

  it('should search contacts with filters and page the results', async () => {
    const stage = sandbox.world.customers[0]!.crm.lifecycleStage;
    const expected = sandbox.world.customers.filter((c) => c.crm.lifecycleStage === stage).length;
    const first = await hubspot.searchContacts(testRequest(), {
      filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: stage }],
      limit: 10,
    });
    expect(first.total).toBe(expected);
    expect(first.customers).toHaveLength(Math.min(10, expected));
    expect(new Set(first.customers.map((c) => c.lifecycleStage))).toEqual(new Set([lifecycleStageOf(stage)]));
    if (expected > 10) expect(first.nextAfter).toBe('10');
  });

  it('should read list memberships and list names', async () => {
    const member = sandbox.world.customers.find((c) => c.crm.lists.length >= 2)!;
    const memberships = await hubspot.listMemberships(testRequest(), member.crm.id);
    expect(memberships.map((m) => m.listId).sort()).toEqual(member.crm.lists.map((l) => l.listId).sort());
    const lists = await hubspot.getLists(
      testRequest(),
      memberships.map((m) => m.listId),
    );
    expect(lists.map((l) => l.name).sort()).toEqual(
      member.crm.lists.map((l) => sandbox.world.lists.find((x) => x.id === l.listId)!.name).sort(),
    );
  });

  it('should read the same list names once for requests that miss them at the same time', async () => {
    // A connector of its own: nothing of these lists is cached yet.
    const fresh = connect();
    const ids = sandbox.world.lists.slice(0, 3).map((l) => l.id);
    const answers = await Promise.all(Array.from({ length: 10 }, () => fresh.getLists(testRequest(), ids)));
    for (const lists of answers) expect(lists.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect((await sandbox.stats()).endpoints['GET /crm/v3/lists']?.count).toBe(1);
    await fresh.close();
  });

  it('should turn a HubSpot error body into an UpstreamError naming the platform', async () => {
    const wrong = connect({ accessToken: 'not-the-demo-token-at-all' });
    const error = await wrong.listContacts(testRequest(), { limit: 5 }).catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAUTHORIZED',
      platform: 'hubspot',
      upstreamStatus: 401,
      upstreamCode: 'INVALID_AUTHENTICATION',
    });
    expect((error as UpstreamError).message).not.toContain('not-the-demo-token-at-all');
  });

  it('should wait out an injected 429 and succeed on retry', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, remaining: 1, endpoints: ['GET /crm/v3/objects/contacts'] });
    const page = await hubspot.listContacts(testRequest(), { limit: 5 });
    expect(page.customers).toHaveLength(5);
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /crm/v3/objects/contacts']?.statuses).toEqual({ '200': 1, '429': 1 });
  });

  it('should report a 429 that outlasts the retries as UPSTREAM_RATE_LIMITED with the policy', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, endpoints: ['GET /crm/v3/objects/contacts'] });
    const error = await hubspot.listContacts(testRequest(), { limit: 5 }).catch((e: unknown) => e);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'hubspot',
      upstreamCode: 'TEN_SECONDLY_ROLLING',
    });
    const stats = await sandbox.stats();
    expect(stats.endpoints['GET /crm/v3/objects/contacts']?.count).toBe(3);
  });

  it('should reject a malformed payload with a clear error naming the platform and field', async () => {
    await sandbox.setFaults({ malformedRate: 1, endpoints: ['GET /crm/v3/objects/contacts'] });
    const error = await hubspot.listContacts(testRequest(), { limit: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions['code']).toBe('UPSTREAM_BAD_RESPONSE');
    expect((error as UpstreamError).message).toMatch(
      /^hubspot returned an unexpected payload from GET \/crm\/v3\/objects\/contacts: results: /,
    );
  });

  it('should enforce the ten-secondly limit with HubSpot headers and policy name', async () => {
    const limited = await startSandbox('hubspot', { customers: 5, world: sandbox.world });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 101; i++) {
        last = await fetch(`${limited.baseUrl}/crm/v3/objects/contacts?limit=1`, {
          headers: { authorization: `Bearer ${DEMO_CREDENTIALS.hubspot.accessToken}` },
        });
        statuses.push(last.status);
        if (i < 100) await last.arrayBuffer();
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(100);
      expect(statuses[100]).toBe(429);
      expect(await last!.json()).toMatchObject({
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
      expect(last!.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
      expect(last!.headers.get('x-hubspot-ratelimit-max')).toBe('100');
    } finally {
      await limited.close();
    }
  });
});
