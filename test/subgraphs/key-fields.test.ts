import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ONLY_MESSAGE } from '../../subgraphs/kit/gateway-auth.js';
import { subgraphMetrics } from '../../subgraphs/kit/metrics.js';
import { ReplayCache } from '../../subgraphs/kit/replay-cache.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { startSubgraph, type MintOptions, type RunningSubgraph } from '../helpers/subgraph.js';

/**
 * The second layer on its own: a gateway token is good for one request (its `jti` is accepted
 * once, its life is at most 30 s, its body is the one it was signed for), and a key field that
 * needs more than its type (`Customer.email` needs `pii:read`) is readable without that scope only
 * by a fetch whose token names it as `planned`, a key the query planner added for a join.
 */

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const world = generateWorld({ seed: 7, customers: 60, anchorDate: TEST_ANCHOR_DATE });
const customer = world.customers[2];
if (!customer) throw new Error('the test world has no customer');

const ENTITIES = /* GraphQL */ `
  query ($r: [_Any!]!) {
    _entities(representations: $r) {
      ... on Customer {
        id
        email
      }
    }
  }
`;
const byEmail = { r: [{ __typename: 'Customer', email: customer.person.email }] };

async function post(
  subgraph: RunningSubgraph,
  body: string,
  token: string,
  path = '/graphql',
): Promise<{ status: number; body: Body | undefined }> {
  const response = await fetch(`${subgraph.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Body) : undefined };
}

const request = (query: string, variables: Record<string, unknown> = {}) =>
  JSON.stringify({ query, variables });

describe('crm subgraph: key fields and the gateway token', () => {
  let crm: RunningSubgraph;
  const mint = (scopes: readonly string[], options: MintOptions = {}) =>
    crm.mint(scopes, 'marketing-automation', options);

  beforeAll(async () => {
    crm = await startSubgraph('crm', { world });
  });
  afterAll(async () => {
    await crm.close();
  });

  it('should answer customers { email } with null and FORBIDDEN to a token without pii:read', async () => {
    const { status, body } = await post(
      crm,
      request('{ customers(first: 2) { edges { node { id email } } } }'),
      await mint(['crm:read']),
    );
    expect(status).toBe(200);
    const nodes = (body?.data?.['customers'] as { edges: { node: { id: string; email: unknown } }[] }).edges;
    expect(nodes.map((e) => e.node.email)).toEqual([null, null]);
    expect(nodes.every((e) => e.node.id.length > 0)).toBe(true);
    expect(body?.errors?.map((e) => [e.path, e.extensions?.['code']])).toEqual([
      [['customers', 'edges', 0, 'node', 'email'], 'FORBIDDEN'],
      [['customers', 'edges', 1, 'node', 'email'], 'FORBIDDEN'],
    ]);
    expect(body?.errors?.[0]?.message).toBe(
      'Not authorized to read Customer.email: requires crm:read and pii:read',
    );
  });

  it('should answer _entities { email } with null and FORBIDDEN to a token without pii:read', async () => {
    const { body } = await post(crm, request(ENTITIES, byEmail), await mint(['crm:read']));
    expect(body?.data).toEqual({ _entities: [{ id: customer.crm.id, email: null }] });
    expect(body?.errors?.map((e) => [e.path, e.extensions?.['code']])).toEqual([
      [['_entities', 0, 'email'], 'FORBIDDEN'],
    ]);
  });

  it('should give email to a token with pii:read, and to a join fetch whose token names it planned', async () => {
    const withScope = await post(crm, request(ENTITIES, byEmail), await mint(['crm:read', 'pii:read']));
    expect(withScope.body).toEqual({
      data: { _entities: [{ id: customer.crm.id, email: customer.person.email }] },
    });
    const body = request('{ customers(first: 1) { edges { node { email } } } }');
    const join = await post(crm, body, await mint(['crm:read'], { planned: ['Customer.email'], body }));
    expect(join.body?.errors).toBeUndefined();
    expect(JSON.stringify(join.body?.data)).toMatch(/"email":"[^"]+@/);
  });

  it('should not let planned stand in for the type: without crm:read a planned email is still refused', async () => {
    const { body } = await post(
      crm,
      request(ENTITIES, byEmail),
      await mint([], { planned: ['Customer.email'] }),
    );
    expect(body?.data).toBeNull();
    expect(body?.errors?.map((e) => e.extensions?.['code'])).toEqual(['FORBIDDEN']);
  });

  it('should refuse a replayed token with 401, however valid it was the first time', async () => {
    const token = await mint(['crm:read']);
    const query = request('{ customers(first: 1) { edges { cursor } } }');
    const before = await subgraphMetrics.rejectedRequests.get({ subgraph: 'crm', reason: 'replayed' });
    expect((await post(crm, query, token)).status).toBe(200);
    const replayed = await post(crm, query, token);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual({
      errors: [{ message: GATEWAY_ONLY_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }],
    });
    expect(await subgraphMetrics.rejectedRequests.get({ subgraph: 'crm', reason: 'replayed' })).toBe(
      before + 1,
    );
  });

  it('should refuse a token bound to another body with 401, so a planned claim is good for its fetch only', async () => {
    const signedFor = request('{ customers(first: 1) { edges { node { id } } } }');
    const token = await mint(['crm:read'], { planned: ['Customer.email'], body: signedFor });
    const other = await post(crm, request('{ customers(first: 50) { edges { node { email } } } }'), token);
    expect(other.status).toBe(401);
    expect(other.body?.data).toBeUndefined();
    // A token signed for that body is accepted with it.
    const fresh = await mint(['crm:read'], { planned: ['Customer.email'], body: signedFor });
    expect((await post(crm, signedFor, fresh)).status).toBe(200);
  });

  it('should refuse a token that claims more than 30 s of life, or has no jti', async () => {
    const query = request('{ customers(first: 1) { edges { cursor } } }');
    expect((await post(crm, query, await mint(['crm:read'], { lifeSeconds: 60 }))).status).toBe(401);
    expect((await post(crm, query, await mint(['crm:read'], { withoutId: true }))).status).toBe(401);
    expect((await post(crm, query, await mint(['crm:read'], { lifeSeconds: 30 }))).status).toBe(200);
  });

  it('should take a cache invalidation with a fresh gateway token once, and refuse its replay or another body', async () => {
    const body = JSON.stringify({ targets: [{ entity: 'Customer', email: customer.person.email }] });
    const token = await mint([], { body });
    expect((await post(crm, body, token, '/cache/invalidate')).status).toBe(204);
    expect((await post(crm, body, token, '/cache/invalidate')).status).toBe(401);
    const forOther = await mint([], { body });
    const changed = JSON.stringify({ targets: [{ entity: 'Customer', id: '1' }] });
    expect((await post(crm, changed, forOther, '/cache/invalidate')).status).toBe(401);
  });
});

describe('the replay cache', () => {
  it('should answer 429 with Retry-After once full of live token ids, rather than forget one early', async () => {
    // One request a second: 35 live ids at once (30 s of life and 5 s of clock tolerance).
    const ads = await startSubgraph('ads', { world, replays: new ReplayCache({ maxRequestsPerSecond: 1 }) });
    try {
      const query = request('{ __typename }');
      for (let i = 0; i < 35; i++) expect((await post(ads, query, await ads.mint([]))).status).toBe(200);
      const full = await post(ads, query, await ads.mint([]));
      expect(full.status).toBe(429);
      expect(full.body?.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED' });
    } finally {
      await ads.close();
    }
  });

  it('should be sized by token life for 10 000 requests a second by default', () => {
    expect(new ReplayCache().capacity).toBe(10_000 * 35);
  });

  it('should accept a token id once, forget it after expiry plus tolerance, and refuse when full of live ids', () => {
    let now = 1_000_000;
    const cache = new ReplayCache({ maxRequestsPerSecond: 1, now: () => now });
    // One request per second for a 30 s life and 5 s tolerance: 35 ids at once.
    expect(cache.capacity).toBe(35);
    expect(cache.claim('a', now + 30)).toEqual({ kind: 'fresh' });
    expect(cache.claim('a', now + 30)).toEqual({ kind: 'replayed' });
    for (let i = 1; i < 35; i++) expect(cache.claim(`id-${i}`, now + 30).kind).toBe('fresh');
    expect(cache.claim('one-too-many', now + 30)).toEqual({ kind: 'full', retryAfterSeconds: 35 });
    // Still a replay until the token could no longer verify (exp + 5 s tolerance).
    now += 34;
    expect(cache.claim('a', now + 30).kind).toBe('replayed');
    now += 1;
    expect(cache.claim('a', now + 30)).toEqual({ kind: 'fresh' });
    expect(cache.size).toBe(1);
  });
});
