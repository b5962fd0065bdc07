/** The subgraphs of the graph, named by role; the platform each wraps stays inside its connector. */
export const SUBGRAPH_NAMES = ['crm', 'email', 'commerce', 'ads'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export function isSubgraphName(value: string): value is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(value);
}

/** Where each subgraph's SDL lives, relative to the repository root. */
export function subgraphSchemaPath(name: SubgraphName): string {
  return `schema/${name}.graphql`;
}
