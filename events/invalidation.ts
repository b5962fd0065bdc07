import { request, type Agent } from 'undici';
import type { Caller, GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import type { CachingSubgraph, ChangedCustomer, Invalidations } from './processor.js';

export interface SubgraphInvalidationOptions {
  /** Where each caching subgraph's GraphQL endpoint is; its `POST /cache/invalidate` is beside it. */
  subgraphUrls: Record<CachingSubgraph, string>;
  /** Signs the token each call carries, as the gateway signs a caller's. */
  signer: GatewayTokenSigner;
  /** Who asks: the event processor's client id and scopes. */
  caller: Caller;
  agent: Agent;
}

/** The endpoint takes up to 500 targets; a claimed batch is smaller, but a config may not be. */
const MAX_TARGETS = 500;

/**
 * Tells the subgraphs which of their cached records an event made stale, over HTTP with a token
 * good for that body at that subgraph, once. A non-2xx answer throws (the processor logs it; the
 * caches' TTLs bound the staleness).
 */
export function subgraphInvalidation(
  options: SubgraphInvalidationOptions,
): (changes: Invalidations) => Promise<void> {
  async function invalidateAt(name: CachingSubgraph, targets: readonly ChangedCustomer[]): Promise<void> {
    const url = options.subgraphUrls[name].replace(/\/graphql$/, '/cache/invalidate');
    const body = JSON.stringify({ targets });
    const token = await options.signer.tokenFor(name, options.caller, { body });
    const response = await request(url, {
      method: 'POST',
      dispatcher: options.agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await response.body.dump();
    if (response.statusCode >= 300)
      throw new Error(`the ${name} subgraph answered ${response.statusCode} to a cache invalidation`);
  }

  return async (changes) => {
    await Promise.all(
      (Object.entries(changes) as [CachingSubgraph, ChangedCustomer[]][]).map(async ([name, targets]) => {
        for (let i = 0; i < targets.length; i += MAX_TARGETS)
          await invalidateAt(name, targets.slice(i, i + MAX_TARGETS));
      }),
    );
  };
}
