import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubSpotConnector, type HubSpotSettings } from '../../platforms/hubspot/client/connector.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { createCacheStore } from '../../lib/cache/store.js';
import { UpstreamError } from '../../lib/errors.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createHubSpotSandbox } from '../../platforms/hubspot/sandbox/index.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

const ttls = { profile: 60, subscription: 60, orders: 60, campaignReports: 60 };

describe('HubSpot connector: cache, throttle and breaker', () => {
  let sandbox: RunningSandbox;
  const connect = (overrides: Partial<HubSpotSettings> = {}) =>
    new HubSpotConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
      accountId: 'portal-test',
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const cacheFor = (ttl = 60) =>
    new RecordCache(
      createCacheStore({ maxEntries: 10_000, logger: silentLogger }),
      'hubspot',
      'portal-test',
      { ...ttls, profile: ttl },
    );

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { customers: 600 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should read 250 contacts by id in ceil(250/100) = 3 batch calls, in the order asked, missing ones null', async () => {
    const hubspot = connect();
    const ids = sandbox.world.customers
      .slice(0, 249)
      .map((c) => c.crm.id)
      .reverse();
    ids.splice(100, 0, '123456789');
    const chunks = [ids.slice(0, 100), ids.slice(100, 200), ids.slice(200)];
    const results = await Promise.all(
      chunks.map((chunk) => hubspot.batchReadContacts(testRequest(), 'id', chunk)),
    );
    const merged = new Map(results.flatMap((m) => [...m]));
    expect(ids.map((id) => (merged.get(id) as { id?: string } | null)?.id ?? null)).toEqual(
      ids.map((id) => (id === '123456789' ? null : id)),
    );
    const stats = await sandbox.stats();
    expect(stats.endpoints['POST /crm/v3/objects/contacts/batch/read']?.count).toBe(3);
    await hubspot.close();
  });

  it('should join look-ups from 50 concurrent requests into one batch read', async () => {
    const hubspot = connect();
    const customers = sandbox.world.customers.slice(300, 350);
    const found = await Promise.all(
      customers.map((c) => hubspot.getContact(testRequest(), { by: 'email', email: c.person.email })),
    );
    expect(found.map((c) => c?.id)).toEqual(customers.map((c) => c.crm.id));
    expect((await sandbox.stats()).endpoints).toEqual({
      'POST /crm/v3/objects/contacts/batch/read': { count: 1, statuses: { '200': 1 } },
    });
    await hubspot.close();
  });

  it('should not hold a look-up behind two batch reads in flight while the window is mostly free', async () => {
    const hubspot = connect();
    await sandbox.setFaults({ latencyMs: 400 });
    const customers = sandbox.world.customers.slice(400, 405);
    // One look-up every 30 ms, each after the previous one's 2 ms gathering window: while the window
    // is free, each goes out at once instead of waiting for one of two reads to come back.
    const reads: Promise<unknown>[] = [];
    for (const customer of customers) {
      reads.push(hubspot.getContact(testRequest(), { by: 'email', email: customer.person.email }));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await Promise.all(reads);
    expect((await sandbox.stats()).maxConcurrent).toBeGreaterThan(2);
    await hubspot.close();
  });

  it('should serve a second read from the cache with zero upstream calls, under either key', async () => {
    const hubspot = connect({ cache: cacheFor() });
    const customer = sandbox.world.customers[5]!;
    await hubspot.getContact(testRequest(), { by: 'email', email: customer.person.email });
    await sandbox.resetStats();
    const byEmail = await hubspot.getContact(testRequest(), { by: 'email', email: customer.person.email });
    const byId = await hubspot.getContact(testRequest(), { by: 'id', id: customer.crm.id });
    expect(byEmail?.id).toBe(customer.crm.id);
    expect(byId?.email).toBe(customer.person.email);
    expect((await sandbox.stats()).total).toBe(0);
    await hubspot.close();
  });

  it('should go upstream again after invalidateContact and after the TTL', async () => {
    const hubspot = connect({ cache: cacheFor(1) });
    const customer = sandbox.world.customers[6]!;
    const batchReads = async () =>
      (await sandbox.stats()).endpoints['POST /crm/v3/objects/contacts/batch/read']?.count;
    await hubspot.getContact(testRequest(), { by: 'email', email: customer.person.email });
    await hubspot.invalidateContact(customer.crm.id);
    await hubspot.getContact(testRequest(), { by: 'email', email: customer.person.email });
    expect(await batchReads()).toBe(2);
    await new Promise((r) => setTimeout(r, 1_100));
    await hubspot.getContact(testRequest(), { by: 'id', id: customer.crm.id });
    expect(await batchReads()).toBe(3);
    await hubspot.close();
  });

  it('should not cache a failure', async () => {
    const hubspot = connect({ cache: cacheFor(), maxRetries: 0 });
    const customer = sandbox.world.customers[7]!;
    await sandbox.setFaults({ errorRate: 1, remaining: 1 });
    await expect(hubspot.getContact(testRequest(), { by: 'id', id: customer.crm.id })).rejects.toThrow(
      UpstreamError,
    );
    expect((await hubspot.getContact(testRequest(), { by: 'id', id: customer.crm.id }))?.id).toBe(
      customer.crm.id,
    );
    await hubspot.close();
  });

  it('should keep a burst under the limit: zero 429s upstream, the rest queued or failed fast', async () => {
    const limited = createSandboxServer(
      createHubSpotSandbox({
        world: sandbox.world,
        accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
        tenSecondLimit: 20,
      }),
      {
        logger: silentLogger,
      },
    );
    const listening = await listen(limited.server, 0, '127.0.0.1');
    const hubspot = new HubSpotConnector({
      baseUrl: listening.origin,
      accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
      accountId: 'burst',
      timeoutMs: 5_000,
      maxRetries: 0,
      limits: { per10s: 20 },
    });
    try {
      // List memberships have no batch endpoint: sixty contacts are sixty calls.
      const outcomes = await Promise.all(
        sandbox.world.customers.slice(0, 60).map((c) =>
          hubspot.listMemberships(testRequest(2_000), c.crm.id).then(
            () => 'ok',
            (e: UpstreamError) => `${e.extensions['code']}/${e.extensions['upstreamCode']}`,
          ),
        ),
      );
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(20);
      expect(outcomes.filter((o) => o === 'UPSTREAM_RATE_LIMITED/CLIENT_THROTTLE')).toHaveLength(40);
      expect(
        limited.stats.snapshot().endpoints['GET /crm/v3/lists/records/{objectTypeId}/{recordId}/memberships']
          ?.statuses,
      ).toEqual({ '200': 20 });
    } finally {
      await hubspot.close();
      await listening.close();
    }
  });

  it('should adopt the lower limit HubSpot reports in its headers after the first answer', async () => {
    const limited = createSandboxServer(
      createHubSpotSandbox({
        world: sandbox.world,
        accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
        tenSecondLimit: 10,
      }),
      {
        logger: silentLogger,
      },
    );
    const listening = await listen(limited.server, 0, '127.0.0.1');
    // The connector believes the plan allows 100; the portal really allows 10.
    const hubspot = new HubSpotConnector({
      baseUrl: listening.origin,
      accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
      accountId: 'lower',
      timeoutMs: 5_000,
      maxRetries: 0,
    });
    try {
      await hubspot.listMemberships(testRequest(), sandbox.world.customers[0]!.crm.id);
      const outcomes = await Promise.all(
        sandbox.world.customers.slice(1, 30).map((c) =>
          hubspot.listMemberships(testRequest(1_500), c.crm.id).then(
            () => 'ok',
            () => 'limited',
          ),
        ),
      );
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(9);
      expect(
        limited.stats.snapshot().endpoints['GET /crm/v3/lists/records/{objectTypeId}/{recordId}/memberships']
          ?.statuses,
      ).toEqual({ '200': 10 });
    } finally {
      await hubspot.close();
      await listening.close();
    }
  });

  it('should open the breaker after repeated failures and then stop calling HubSpot', async () => {
    const hubspot = connect({ maxRetries: 0 });
    await sandbox.setFaults({ errorRate: 1, errorStatus: 503 });
    for (let i = 0; i < 5; i++)
      await hubspot.getContact(testRequest(), { by: 'id', id: '10000' }).catch(() => undefined);
    const callsWhenOpen = (await sandbox.stats()).total;
    const error = await hubspot.getContact(testRequest(), { by: 'id', id: '10000' }).catch((e: unknown) => e);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      platform: 'hubspot',
      upstreamCode: 'CIRCUIT_OPEN',
    });
    expect(callsWhenOpen).toBe(5);
    expect((await sandbox.stats()).total).toBe(5);
    await hubspot.close();
  });

  it('should map a 207 failure that is not "not found" to an error for that key alone', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(207, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'COMPLETE',
          startedAt: '2026-11-28T00:00:00Z',
          completedAt: '2026-11-28T00:00:01Z',
          results: [
            {
              id: '1',
              properties: { email: 'a@example.com' },
              createdAt: '2026-01-01T00:00:00Z',
              updatedAt: '2026-01-01T00:00:00Z',
            },
          ],
          numErrors: 2,
          errors: [
            { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'not found', context: { ids: ['2'] } },
            {
              status: 'error',
              category: 'INTERNAL_ERROR',
              message: 'shard unavailable',
              context: { ids: ['3'] },
            },
          ],
        }),
      );
    });
    const listening = await listen(server, 0, '127.0.0.1');
    const hubspot = new HubSpotConnector({
      baseUrl: listening.origin,
      accessToken: 'anything-long',
      accountId: 'x',
      timeoutMs: 2_000,
      maxRetries: 0,
    });
    try {
      const found = await hubspot.batchReadContacts(testRequest(), 'id', ['1', '2', '3']);
      expect((found.get('1') as { email: string }).email).toBe('a@example.com');
      expect(found.get('2')).toBeNull();
      expect(found.get('3')).toBeInstanceOf(UpstreamError);
      expect((found.get('3') as UpstreamError).extensions).toMatchObject({
        code: 'UPSTREAM_ERROR',
        platform: 'hubspot',
        upstreamCode: 'INTERNAL_ERROR',
      });
    } finally {
      await hubspot.close();
      await listening.close();
    }
  });
});
