import type { CodegenConfig } from '@graphql-codegen/cli';
import { subgraphCodegen } from './subgraphs/kit/codegen-preset.js';
import { eventsCodegen } from './subgraphs/events/codegen.js';
import { ROLE_DECLARATIONS } from './subgraphs/roles.js';

/**
 * Resolver types for each subgraph, generated from its own SDL in `schema/`. Each subgraph declares
 * its mappers (GraphQL type -> the record its connector returns) in `subgraphs/<name>/codegen.ts`
 * (read through its declaration in `subgraphs/roles.ts`), so resolvers are checked against what the
 * platform actually gives. Regenerate with `npm run codegen`; a test fails when the committed files
 * are stale.
 */
const config: CodegenConfig = {
  overwrite: true,
  generates: {
    ...Object.assign({}, ...ROLE_DECLARATIONS.map((role) => subgraphCodegen(role.name, role.codegen))),
    ...subgraphCodegen('events', eventsCodegen),
  },
  hooks: { afterAllFileWrite: ['prettier --write'] },
};

export default config;
