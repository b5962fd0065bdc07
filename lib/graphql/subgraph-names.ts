/**
 * The subgraphs that wrap a platform, named by role; each runs on its own (`cli subgraph <name>`).
 * A literal rather than derived from `subgraphs/registry.ts`: `lib/` and `gateway/` use the names as
 * types and do not import subgraphs; test/subgraphs/role-names.test.ts keeps the two lists equal.
 */
export const PLATFORM_SUBGRAPHS = ['crm', 'email', 'commerce', 'ads', 'messaging'] as const;
export type PlatformSubgraphName = (typeof PLATFORM_SUBGRAPHS)[number];

/**
 * Every subgraph of the graph. `events` (marketing events from webhooks) is served by the gateway
 * process itself, next to the webhook endpoints and the event log it reads.
 */
export const SUBGRAPH_NAMES = [...PLATFORM_SUBGRAPHS, 'events'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** The variable holding a platform subgraph's port when it runs alone (`CRM_PORT`). */
export function subgraphPortVariable(name: PlatformSubgraphName) {
  return `${name.toUpperCase() as Uppercase<PlatformSubgraphName>}_PORT` as const;
}

/** The variable holding the URL the gateway reaches a platform subgraph at (`CRM_SUBGRAPH_URL`). */
export function subgraphUrlVariable(name: PlatformSubgraphName) {
  return `${name.toUpperCase() as Uppercase<PlatformSubgraphName>}_SUBGRAPH_URL` as const;
}

export function isPlatformSubgraphName(value: string): value is PlatformSubgraphName {
  return (PLATFORM_SUBGRAPHS as readonly string[]).includes(value);
}

/** Where each subgraph's SDL lives, relative to the repository root. */
export function subgraphSchemaPath(name: SubgraphName): string {
  return `schema/${name}.graphql`;
}
