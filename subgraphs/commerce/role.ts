import { shopify } from '../../platforms/shopify/index.js';
import { withExtras, type RoleSubgraph } from '../kit/role.js';
import { commerceDeclaration } from './declaration.js';
import { buildCommerceSubgraph, commerceConfigFromEnv } from './index.js';

/** The `commerce` subgraph as every command builds it: from the environment, or against the sandbox. */
export const commerceRole: RoleSubgraph = {
  name: commerceDeclaration.name,
  platform: commerceDeclaration.platform,
  env: commerceDeclaration.env,
  async fromEnv(source, extras, logger) {
    const config = commerceConfigFromEnv(source);
    return { subgraph: await buildCommerceSubgraph(withExtras(config, extras), logger), port: config.port };
  },
  forSandbox: (shared, origin, plans, logger) =>
    buildCommerceSubgraph({ ...shared, shopify: shopify.sandbox.connection(origin, plans.shopify) }, logger),
};
