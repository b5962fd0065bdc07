import { twilio } from '../../platforms/twilio/index.js';
import { withExtras, type RoleSubgraph } from '../kit/role.js';
import { messagingDeclaration } from './declaration.js';
import { buildMessagingSubgraph, messagingConfigFromEnv } from './index.js';

/** The `messaging` subgraph as every command builds it: from the environment, or against the sandbox. */
export const messagingRole: RoleSubgraph = {
  name: messagingDeclaration.name,
  platform: messagingDeclaration.platform,
  env: messagingDeclaration.env,
  async fromEnv(source, extras, logger) {
    const config = messagingConfigFromEnv(source);
    return { subgraph: await buildMessagingSubgraph(withExtras(config, extras), logger), port: config.port };
  },
  actionConnectionFromEnv: (source) => messagingConfigFromEnv(source).twilio,
  forSandbox: (shared, origin, plans, logger) =>
    buildMessagingSubgraph({ ...shared, twilio: twilio.sandbox.connection(origin, plans.twilio) }, logger),
};
