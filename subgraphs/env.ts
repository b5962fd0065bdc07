import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import { ROLE_DECLARATIONS } from './roles.js';

/**
 * Starting a subgraph on its own (`cli subgraph <name>`): read only that subgraph's variables,
 * so a process holds the credentials of one platform and no other. From the declarations, so
 * `--help` and the docs can list them without loading a server.
 */
export const SUBGRAPH_ENV = Object.fromEntries(
  ROLE_DECLARATIONS.map((role) => [role.name, role.env]),
) as Record<PlatformSubgraphName, readonly string[]>;
