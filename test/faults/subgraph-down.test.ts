import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../../bench/gateway-process.js';
import type { Stack } from '../../cli/stack.js';
import { publicJwksOf } from '../../lib/auth/gateway-token.js';
import { addDays } from '../../lib/dates.js';
import { SUBGRAPH_NAMES } from '../../lib/graphql/subgraph-names.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { sandboxBaseUrl } from '../../sandboxes/registry.js';
import { as } from '../helpers/clients.js';
import { DASHBOARD, PROFILE } from '../helpers/operations.js';
import { expectErrorsAt, withoutPlatform } from '../helpers/outages.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { startSubgraphProcess, type SubgraphProcess } from '../helpers/subgraph-process.js';

/**
 * Issue 12, point 3: a subgraph process dies while the gateway runs. The gateway and the
 * `commerce` subgraph are their own OS processes (`cli/main.ts gateway`, `cli/main.ts subgraph
 * commerce`), the other subgraphs and the sandboxes a test stack; the test SIGKILLs the subgraph.
 * Answers keep every field the other subgraphs serve, with an error naming `commerce` where its
 * fields were, and `/health` says which subgraph is down to a caller with metrics:read.
 */

async function startCommerceProcess(stack: Stack): Promise<SubgraphProcess> {
  return startSubgraphProcess('commerce', {
    SHOPIFY_BASE_URL: sandboxBaseUrl('shopify', stack.origins.shopify),
    SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
    GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(stack.gatewayTokenKey)),
  });
}

describe('the commerce subgraph process killed while the gateway runs', () => {
  let stack: Stack;
  let commerce: SubgraphProcess;
  let gateway: GatewayProcess;
  const variables = {
    Profile: {} as Record<string, unknown>,
    Dashboard: { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE },
  };
  const baseline: Record<'Profile' | 'Dashboard', Record<string, unknown>> = { Profile: {}, Dashboard: {} };
  const run = (name: 'Profile' | 'Dashboard') =>
    graphql(
      `${gateway.origin}/graphql`,
      name === 'Profile' ? PROFILE : DASHBOARD,
      variables[name],
      as('admin'),
    );

  beforeAll(async () => {
    stack = await startTestStack({ responseCache: false, ttlSeconds: 0 });
    commerce = await startCommerceProcess(stack);
    gateway = await startGatewayProcess(stack, {
      COMMERCE_SUBGRAPH_URL: `${commerce.origin}/graphql`,
      RESPONSE_CACHE: 'false',
    });
    variables.Profile = { email: stack.world.customers.find((c) => c.audience && c.shop)!.person.email };
    for (const name of ['Profile', 'Dashboard'] as const) {
      const { body } = await run(name);
      expect(body.errors, name).toBeUndefined();
      baseline[name] = body.data as Record<string, unknown>;
    }
    commerce.child.kill('SIGKILL');
    await commerce.exited;
  }, 90_000);
  afterAll(async () => {
    if (commerce.child.exitCode === null && commerce.child.signalCode === null)
      commerce.child.kill('SIGKILL');
    await gateway.kill('SIGTERM');
    await stack.close();
  });

  it.each(['Profile', 'Dashboard'] as const)(
    'should answer %s with every field but the commerce ones, and name the commerce subgraph where they were',
    async (name) => {
      const { status, body } = await run(name);
      expect(status).toBe(200);
      // What a Shopify outage costs is exactly what losing the subgraph that wraps it costs.
      const expected = withoutPlatform(name, baseline[name], 'shopify');
      expect(body.data).toEqual(expected.data);
      expectErrorsAt(body, expected.errorPaths, { subgraph: 'commerce' }, ['DOWNSTREAM_SERVICE_ERROR']);
    },
  );

  it('should say in /health which subgraph is down: the details to metrics:read, the status to anyone', async () => {
    // A report is reused for a second (load balancers poll hard), so the kill shows within one.
    const bare = await vi.waitFor(
      async () => {
        const response = await fetch(`${gateway.origin}/health`);
        expect(response.status).toBe(503);
        return response;
      },
      { timeout: 5_000, interval: 200 },
    );
    expect(await bare.json()).toEqual({ status: 'unavailable' });
    const detailed = await fetch(`${gateway.origin}/health`, { headers: as('admin') });
    expect(detailed.status).toBe(503);
    expect(await detailed.json()).toEqual({
      status: 'unavailable',
      supergraphLoaded: true,
      // Every subgraph answers but the one killed.
      subgraphs: {
        ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, { ok: true }])),
        commerce: { ok: false, reason: 'unreachable (ECONNREFUSED)' },
      },
    });
  });
});
