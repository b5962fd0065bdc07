import { declareRole } from '../kit/declaration.js';
import { crmCodegen } from './codegen.js';
import { CRM_ENV } from './env.js';

/** The `crm` subgraph, declared: read through `subgraphs/roles.ts`. */
export const crmDeclaration = declareRole({
  name: 'crm',
  platform: 'hubspot',
  defaultPort: 4001,
  scope: 'Customer records from the CRM: ids, lifecycle stage, dates, list memberships (no personal data).',
  pageSizes: { 'Query.customers(first:)': 500 },
  env: CRM_ENV,
  codegen: crmCodegen,
  load: async () => (await import('./role.js')).crmRole,
});
