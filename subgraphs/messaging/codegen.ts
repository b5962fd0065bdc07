import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `messaging` subgraph: GraphQL types mapped to its connector's records. */
export const messagingCodegen: SubgraphCodegen = {
  contextType: '../context.js#MessagingContext',
  mappers: {
    Customer: '../mappers.js#CustomerModel',
    SmsConsent: '../../../platforms/twilio/client/records.js#SmsConsentRecord',
    SmsMessage: '../../../platforms/twilio/client/records.js#SmsMessageRecord',
  },
};
