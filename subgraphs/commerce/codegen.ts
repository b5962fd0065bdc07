import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `commerce` subgraph: GraphQL types mapped to its connector's records. */
export const commerceCodegen: SubgraphCodegen = {
  contextType: '../context.js#CommerceContext',
  mappers: {
    Customer: '../mappers.js#CommerceCustomerModel',
    Order: '../../../platforms/shopify/client/records.js#ShopOrder',
    CampaignPerformance: '../mappers.js#CampaignPerformanceModel',
  },
};
