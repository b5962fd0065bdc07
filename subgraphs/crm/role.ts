import { hubspot } from '../../platforms/hubspot/index.js';
import { withExtras, type RoleSubgraph } from '../kit/role.js';
import { crmDeclaration } from './declaration.js';
import { buildCrmSubgraph, crmConfigFromEnv } from './index.js';

/** The `crm` subgraph as every command builds it: from the environment, or against the sandbox. */
export const crmRole: RoleSubgraph = {
  name: crmDeclaration.name,
  platform: crmDeclaration.platform,
  env: crmDeclaration.env,
  async fromEnv(source, extras, logger) {
    const config = crmConfigFromEnv(source);
    return { subgraph: await buildCrmSubgraph(withExtras(config, extras), logger), port: config.port };
  },
  actionConnectionFromEnv: (source) => crmConfigFromEnv(source).hubspot,
  forSandbox: (shared, origin, plans, logger) =>
    buildCrmSubgraph({ ...shared, hubspot: hubspot.sandbox.connection(origin, plans.hubspot) }, logger),
};
