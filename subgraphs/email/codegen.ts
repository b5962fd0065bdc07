import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `email` subgraph: GraphQL types mapped to its connector's records. */
export const emailCodegen: SubgraphCodegen = {
  contextType: '../context.js#EmailContext',
  mappers: {
    Customer: '../mappers.js#CustomerModel',
    EmailSubscription: '../../../connectors/mailchimp/records.js#EmailMember',
    EmailEngagement: '../../../connectors/mailchimp/records.js#EmailMember',
    EmailCampaign: '../../../connectors/mailchimp/records.js#EmailCampaignRecord',
    EmailStats: '../../../connectors/mailchimp/records.js#EmailStatsRecord',
    CampaignPerformance: '../mappers.js#CampaignPerformanceModel',
  },
};
