import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `ads` subgraph: GraphQL types mapped to its connector's records. */
export const adsCodegen: SubgraphCodegen = {
  contextType: '../context.js#AdsContext',
  mappers: {
    AdCampaign: '../../../platforms/meta/client/records.js#AdCampaignInsight',
    AdStats: '../mappers.js#AdStatsModel',
    CampaignPerformance: '../mappers.js#CampaignPerformanceModel',
  },
};
