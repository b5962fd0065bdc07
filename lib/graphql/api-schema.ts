import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';

/**
 * The API schema of a composed supergraph: what clients see and introspect, without the join and
 * link machinery and without `@inaccessible` elements. The same derivation @apollo/gateway makes
 * when it loads the supergraph, for tools that need it without starting a gateway (operation
 * validation, schema diffs, documentation).
 *
 * `supportedFeatures: null` accepts every linked spec: the committed supergraph links
 * requiresScopes/authenticated `for: SECURITY`, which @apollo/gateway refuses to execute but which
 * changes nothing in the API schema.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
}
