import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEEP_QUERY, expectedDeepResponse } from '../../bench/gateways/query.js';
import { buildBenchSubgraphs } from '../../bench/gateways/subgraphs.js';
import { benchSupergraph } from '../../bench/gateways/supergraph.js';
import { coalesceQueries, serialiseSharedResults } from '../../gateway/plugins/coalesce-queries.js';
import type { GatewayContext } from '../../gateway/context.js';
import type { ClientIdentity } from '../../gateway/identity.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { silentLogger } from '../helpers/context.js';
import { createRequestContext } from '../../lib/request-context.js';

/**
 * In-flight coalescing over real HTTP subgraphs (the gateway benchmark's four): identical queries in
 * flight for one client cost one execution; nothing is shared between clients.
 */
describe('coalescing of identical queries in flight', () => {
  let subgraphs: Listening;
  let apollo: ApolloServer<GatewayContext>;
  let fetches = 0;

  beforeAll(async () => {
    const server = buildBenchSubgraphs({ memo: false });
    server.prependListener('request', () => {
      fetches++;
    });
    subgraphs = await listen(server, 0, '127.0.0.1');
    const gateway = new ApolloGateway({ supergraphSdl: benchSupergraph(subgraphs.origin, false) });
    apollo = new ApolloServer<GatewayContext>({
      gateway: coalesceQueries(gateway),
      stringifyResult: serialiseSharedResults(),
    });
    await apollo.start();
  });

  afterAll(async () => {
    await apollo.stop();
    await subgraphs.close();
  });

  const client = (id: string): ClientIdentity => ({ id, scopes: ['crm:read'], via: 'api-key' });
  const run = (identity: ClientIdentity) =>
    apollo.executeOperation(
      { query: DEEP_QUERY },
      {
        contextValue: {
          client: identity,
          request: createRequestContext(silentLogger, 'test', 10_000),
        },
      },
    );
  const fetchesOf = async (requests: () => Promise<unknown>) => {
    const before = fetches;
    await requests();
    return fetches - before;
  };

  it('should answer concurrent identical queries of one client with one execution, each completely', async () => {
    const one = await fetchesOf(() => run(client('a')));
    expect(one).toBeGreaterThan(1);
    let results: Awaited<ReturnType<typeof run>>[] = [];
    const ten = await fetchesOf(async () => {
      results = await Promise.all(Array.from({ length: 10 }, () => run(client('a'))));
    });
    expect(ten).toBe(one);
    const expected = expectedDeepResponse();
    for (const result of results) {
      expect(result.body.kind === 'single' && result.body.singleResult).toEqual(expected);
    }
  });

  it('should never share an execution between two clients', async () => {
    const one = await fetchesOf(() => run(client('a')));
    const two = await fetchesOf(() => Promise.all([run(client('a')), run(client('b'))]));
    expect(two).toBe(2 * one);
  });

  it('should execute again once the earlier execution has finished (no caching)', async () => {
    const one = await fetchesOf(() => run(client('a')));
    const sequential = await fetchesOf(async () => {
      await run(client('a'));
      await run(client('a'));
    });
    expect(sequential).toBe(2 * one);
  });
});
