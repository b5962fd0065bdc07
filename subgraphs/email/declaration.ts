import { declareRole } from '../kit/declaration.js';
import { emailCodegen } from './codegen.js';
import { EMAIL_ENV } from './env.js';

/** The `email` subgraph, declared: read through `subgraphs/roles.ts`. */
export const emailDeclaration = declareRole({
  name: 'email',
  platform: 'mailchimp',
  defaultPort: 4002,
  scope: "A customer's email subscription and engagement.",
  env: EMAIL_ENV,
  codegen: emailCodegen,
  load: async () => (await import('./role.js')).emailRole,
});
