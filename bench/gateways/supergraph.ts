import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { BENCH_SUBGRAPHS, subgraphSdl } from './schemas.js';

/**
 * The benchmark supergraph, composed at run time (subgraph URLs carry the port the subgraphs got).
 * `secured`: with the `@requiresScopes` permissions our gateway enforces.
 */
export function benchSupergraph(subgraphsOrigin: string, secured: boolean): string {
  const result = composeServices(
    BENCH_SUBGRAPHS.map((name) => ({
      name,
      url: `${subgraphsOrigin}/${name}`,
      typeDefs: parse(subgraphSdl(name, secured)),
    })),
  );
  if (result.errors) {
    throw new Error(
      `the benchmark subgraphs do not compose:\n${result.errors.map((e) => e.message).join('\n')}`,
    );
  }
  return result.supergraphSdl;
}
