import { ROLE_DEFAULT_PORTS, ROLE_SUBGRAPH_NAMES } from '../__generated__/vocabulary.js';

/**
 * The subgraphs that wrap a platform, named by role; each runs on its own (`cli subgraph <name>`).
 * Declared in `subgraphs/roles.ts`, read here from the generated vocabulary (`npm run codegen`):
 * `lib/` and `gateway/` use the names as types and do not import subgraphs.
 */
export const PLATFORM_SUBGRAPHS = ROLE_SUBGRAPH_NAMES;
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

/** Where a platform subgraph answers by default: its default port on loopback. */
export function defaultSubgraphUrl(name: PlatformSubgraphName): string {
  return `http://127.0.0.1:${ROLE_DEFAULT_PORTS[name]}/graphql`;
}

export function isPlatformSubgraphName(value: string): value is PlatformSubgraphName {
  return (PLATFORM_SUBGRAPHS as readonly string[]).includes(value);
}

/** Where each subgraph's SDL lives, relative to the repository root. */
export function subgraphSchemaPath(name: SubgraphName): string {
  return `schema/${name}.graphql`;
}
