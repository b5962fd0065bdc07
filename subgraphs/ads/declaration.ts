import { declareRole } from '../kit/declaration.js';
import { adsCodegen } from './codegen.js';
import { ADS_ENV } from './env.js';

/** The `ads` subgraph, declared: read through `subgraphs/roles.ts`. */
export const adsDeclaration = declareRole({
  name: 'ads',
  platform: 'meta',
  defaultPort: 4004,
  scope: 'Ad campaigns, their spend, impressions, clicks and conversions.',
  env: ADS_ENV,
  codegen: adsCodegen,
  load: async () => (await import('./role.js')).adsRole,
});
