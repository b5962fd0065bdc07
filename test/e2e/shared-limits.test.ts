import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGatewayKeys, GatewayTokenSigner, publicJwksOf } from '../../lib/auth/gateway-token.js';
import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { DEAD_REDIS_URL, REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';
import { startSubgraphProcess } from '../helpers/subgraph-process.js';

/**
 * Two `subgraph crm` processes on one Redis read one HubSpot account (the sandbox, enforcing the
 * Free plan's 100 calls per 10 s) as fast as their callers ask: each process alone would allow
 * itself the whole plan, together they spend one budget in Redis, and HubSpot never answers 429.
 */

const PAGES = 60;

describe.runIf(REDIS_URL)(redisSuite("one HubSpot account's limit shared by two subgraph processes"), () => {
  let sandbox: RunningSandbox;
  let signer: GatewayTokenSigner;
  let redis: RedisClient;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox('hubspot', { rateLimits: true, customers: PAGES * 100 });
    const keys = await generateGatewayKeys();
    signer = new GatewayTokenSigner(keys.privateJwk);
    redis = await connectSharedRedis({ url: REDIS_URL ?? '' });
    for (let i = 0; i < 2; i++)
      processes.push(
        await startSubgraphProcess('crm', {
          HUBSPOT_BASE_URL: sandbox.baseUrl,
          HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken,
          GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(keys.privateJwk)),
          REDIS_URL: REDIS_URL ?? '',
          // A fresh cache namespace is not needed: customer pages are read, not cached.
        }),
      );
  }, 90_000);

  afterAll(async () => {
    for (const process_ of processes) {
      if (process_.child.exitCode === null) process_.child.kill('SIGTERM');
      await process_.exited;
    }
    await redis?.close();
    await sandbox?.close();
  });

  /** Every page of the customers, through one subgraph process, one page after the other. */
  const readAll = async (origin: string) => {
    let after: string | null = null;
    for (let page = 0; page < PAGES; page++) {
      const body = JSON.stringify({
        query: 'query ($after: String) { customers(first: 100, after: $after) { pageInfo { endCursor } } }',
        variables: { after },
      });
      const token = await signer.tokenFor(
        'crm',
        { clientId: 'shared-limits-test', scopes: ['crm:read'] },
        { body },
      );
      const response = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const answer = (await response.json()) as {
        data?: { customers: { pageInfo: { endCursor: string | null } } };
        errors?: unknown[];
      };
      if (answer.errors) throw new Error(JSON.stringify(answer.errors));
      after = answer.data?.customers.pageInfo.endCursor ?? null;
    }
  };

  it('should keep the calls of both processes within the plan: no 429 from HubSpot', async () => {
    await sandbox.resetStats();
    await Promise.all(processes.map((p) => readAll(p.origin)));
    const stats = await sandbox.stats();
    const statuses: Record<string, number> = {};
    for (const endpoint of Object.values(stats.endpoints))
      for (const [status, count] of Object.entries(endpoint.statuses))
        statuses[status] = (statuses[status] ?? 0) + count;
    // 120 pages are more than the plan's 100 per 10 s: alone, each process would send its 60 at once.
    expect(stats.total).toBeGreaterThanOrEqual(2 * PAGES);
    expect(statuses['429'] ?? 0).toBe(0);
    // The budget both spent is in Redis.
    expect((await redis.keys('mg:upstream:budget:window:*')).length).toBeGreaterThan(0);
  }, 120_000);

  it('should start and answer when Redis cannot be reached, counting in the process alone', async () => {
    const keys = await generateGatewayKeys();
    const lone = await startSubgraphProcess('crm', {
      HUBSPOT_BASE_URL: sandbox.baseUrl,
      HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken,
      GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(keys.privateJwk)),
      REDIS_URL: DEAD_REDIS_URL,
    });
    try {
      const body = JSON.stringify({ query: '{ customers(first: 10) { pageInfo { endCursor } } }' });
      const token = await new GatewayTokenSigner(keys.privateJwk).tokenFor(
        'crm',
        { clientId: 'shared-limits-test', scopes: ['crm:read'] },
        { body },
      );
      const response = await fetch(`${lone.origin}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      const answer = (await response.json()) as { data?: unknown; errors?: unknown[] };
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toMatchObject({ customers: { pageInfo: { endCursor: expect.any(String) } } });
    } finally {
      lone.child.kill('SIGTERM');
      await lone.exited;
    }
  }, 60_000);
});
