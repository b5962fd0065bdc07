import type { SubgraphCodegen } from '../kit/codegen-preset.js';

/** Resolver typing of the `crm` subgraph: GraphQL types mapped to the HubSpot connector's records. */
export const crmCodegen: SubgraphCodegen = {
  contextType: '../context.js#CrmContext',
  mappers: {
    Customer: '../../../platforms/hubspot/client/records.js#CrmCustomer',
    CustomerList: '../mappers.js#CustomerListModel',
    CustomerConnection: '../mappers.js#CustomerConnectionModel',
  },
};
