import { declareRole } from '../kit/declaration.js';
import { messagingCodegen } from './codegen.js';
import { MESSAGING_ENV } from './env.js';

/** The `messaging` subgraph, declared: read through `subgraphs/roles.ts`. */
export const messagingDeclaration = declareRole({
  name: 'messaging',
  platform: 'twilio',
  defaultPort: 4005,
  scope:
    "A customer's SMS consent (opted in or out, when) and recent text messages (status, direction, times; never their text).",
  pageSizes: { 'Customer.smsMessages(first:)': 50 },
  env: MESSAGING_ENV,
  codegen: messagingCodegen,
  load: async () => (await import('./role.js')).messagingRole,
});
