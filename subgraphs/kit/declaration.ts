import type { PlatformName } from '../../platforms/registry.js';
import type { SubgraphCodegen } from './codegen-preset.js';
import type { RoleSubgraph } from './role.js';

/**
 * What the rest of the system knows of a role subgraph without loading its code: its name, the
 * platform it reads, its default port, the scope that reads it, the variables it reads and its
 * resolver typing. Written once in `subgraphs/<role>/declaration.ts` and listed in
 * `subgraphs/roles.ts`; `npm run codegen` writes the names, ports and scopes into
 * `lib/__generated__/vocabulary.ts` for the layers below (the catalog, composition, the scopes),
 * which do not import subgraphs. The code is loaded on first use (`load`), so `--help`, the docs and
 * codegen read a role without building a server.
 */
export interface RoleDeclaration<N extends string = string> {
  name: N;
  /** The platform it reads (a descriptor in platforms/registry.ts). */
  platform: PlatformName;
  /** Its port by default, alone (`<NAME>_PORT`) and under `npm start`; the gateway's default URL. */
  defaultPort: number;
  /** What its scope (`<name>:read`) lets a client read, in words for the README and the docs. */
  scope: string;
  /**
   * The largest page each of its list arguments accepts, by schema coordinate
   * (`Customer.orders(first:)`): its resolvers and the gateway refuse a value outside it.
   */
  pageSizes?: Readonly<Record<string, number>>;
  /** The variables `subgraph <name>` reads: its platform's and nothing of any other. */
  env: readonly string[];
  /** Resolver typing: GraphQL types mapped to its platform client's records. */
  codegen: SubgraphCodegen;
  /** The role's code, imported on first use. */
  load(): Promise<RoleSubgraph>;
}

export function declareRole<const N extends string>(declaration: RoleDeclaration<N>): RoleDeclaration<N> {
  return declaration;
}
