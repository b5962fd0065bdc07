import { meta } from '../../platforms/meta/index.js';
import { withExtras, type RoleSubgraph } from '../kit/role.js';
import { adsDeclaration } from './declaration.js';
import { buildAdsSubgraph, adsConfigFromEnv } from './index.js';

/** The `ads` subgraph as every command builds it: from the environment, or against the sandbox. */
export const adsRole: RoleSubgraph = {
  name: adsDeclaration.name,
  platform: adsDeclaration.platform,
  env: adsDeclaration.env,
  async fromEnv(source, extras, logger) {
    const config = adsConfigFromEnv(source);
    return { subgraph: await buildAdsSubgraph(withExtras(config, extras), logger), port: config.port };
  },
  actionConnectionFromEnv: (source) => adsConfigFromEnv(source).meta,
  forSandbox: (shared, origin, plans, logger) =>
    buildAdsSubgraph({ ...shared, meta: meta.sandbox.connection(origin, plans.meta) }, logger),
};
