import type { CodegenConfig } from '@graphql-codegen/cli';
import { subgraphCodegen } from './subgraphs/kit/codegen-preset.js';

/**
 * Resolver types for each subgraph, generated from its own SDL in `schema/`. Each subgraph declares
 * its mappers (GraphQL type -> the record its connector returns) in `subgraphs/<name>/codegen.ts`, so
 * resolvers are checked against what the platform actually gives. Regenerate with `npm run codegen`;
 * a test fails when the committed files are stale.
 */
import { crmCodegen } from './subgraphs/crm/codegen.js';
import { emailCodegen } from './subgraphs/email/codegen.js';
import { commerceCodegen } from './subgraphs/commerce/codegen.js';
import { adsCodegen } from './subgraphs/ads/codegen.js';
import { messagingCodegen } from './subgraphs/messaging/codegen.js';
import { eventsCodegen } from './subgraphs/events/codegen.js';

const config: CodegenConfig = {
  overwrite: true,
  generates: {
    ...subgraphCodegen('crm', crmCodegen),
    ...subgraphCodegen('email', emailCodegen),
    ...subgraphCodegen('commerce', commerceCodegen),
    ...subgraphCodegen('ads', adsCodegen),
    ...subgraphCodegen('messaging', messagingCodegen),
    ...subgraphCodegen('events', eventsCodegen),
  },
  hooks: { afterAllFileWrite: ['prettier --write'] },
};

export default config;
