import { mailchimp } from '../../platforms/mailchimp/index.js';
import { withExtras, type RoleSubgraph } from '../kit/role.js';
import { emailDeclaration } from './declaration.js';
import { buildEmailSubgraph, emailConfigFromEnv } from './index.js';

/** The `email` subgraph as every command builds it: from the environment, or against the sandbox. */
export const emailRole: RoleSubgraph = {
  name: emailDeclaration.name,
  platform: emailDeclaration.platform,
  env: emailDeclaration.env,
  async fromEnv(source, extras, logger) {
    const config = emailConfigFromEnv(source);
    return { subgraph: await buildEmailSubgraph(withExtras(config, extras), logger), port: config.port };
  },
  actionConnectionFromEnv: (source) => emailConfigFromEnv(source).mailchimp,
  forSandbox: (shared, origin, plans, logger) =>
    buildEmailSubgraph(
      { ...shared, mailchimp: mailchimp.sandbox.connection(origin, plans.mailchimp) },
      logger,
    ),
};
