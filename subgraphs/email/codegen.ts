import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `email` subgraph: GraphQL types mapped to its connector's records. */
export const emailCodegen: SubgraphCodegen = {
  contextType: '../context.js#EmailContext',
  mappers: {},
};
