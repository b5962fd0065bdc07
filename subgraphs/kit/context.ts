import type { RequestContext } from '../../lib/request-context.js';

/** What every subgraph's resolvers get; each subgraph adds its connector and loaders. */
export interface SubgraphContext {
  request: RequestContext;
}
