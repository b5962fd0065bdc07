import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `email` subgraph: GraphQL types mapped to its connector's records. */
export const emailCodegen: SubgraphCodegen = {
  contextType: '../context.js#EmailContext',
  mappers: {
    Customer: '../mappers.js#CustomerModel',
    EmailSubscription: '../../../platforms/mailchimp/client/records.js#EmailMember',
    EmailEngagement: '../../../platforms/mailchimp/client/records.js#EmailMember',
    EmailCampaign: '../../../platforms/mailchimp/client/records.js#EmailCampaignRecord',
    EmailStats: '../../../platforms/mailchimp/client/records.js#EmailStatsRecord',
    CampaignPerformance: '../mappers.js#CampaignPerformanceModel',
  },
};
