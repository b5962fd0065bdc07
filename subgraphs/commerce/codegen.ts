import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `commerce` subgraph: GraphQL types mapped to its connector's records. */
export const commerceCodegen: SubgraphCodegen = {
  contextType: '../context.js#CommerceContext',
  mappers: {},
};
