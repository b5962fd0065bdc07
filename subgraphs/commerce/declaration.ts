import { declareRole } from '../kit/declaration.js';
import { commerceCodegen } from './codegen.js';
import { COMMERCE_ENV } from './env.js';

/** The `commerce` subgraph, declared: read through `subgraphs/roles.ts`. */
export const commerceDeclaration = declareRole({
  name: 'commerce',
  platform: 'shopify',
  defaultPort: 4003,
  scope: "A customer's orders, order count and lifetime value.",
  pageSizes: { 'Customer.orders(first:)': 100 },
  env: COMMERCE_ENV,
  codegen: commerceCodegen,
  load: async () => (await import('./role.js')).commerceRole,
});
