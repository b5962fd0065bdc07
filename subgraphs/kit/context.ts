import type { Caller } from '../../lib/auth/gateway-token.js';
import type { RequestContext } from '../../lib/request-context.js';

/** What every subgraph's resolvers get; each subgraph adds its connector and loaders. */
export interface SubgraphContext {
  request: RequestContext;
  /**
   * Who the gateway is calling for, from the gateway token the kit verified before GraphQL ran.
   * The field permissions read it; a request without a valid token never gets this far.
   */
  caller: Caller;
}
