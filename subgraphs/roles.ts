import { adsDeclaration } from './ads/declaration.js';
import { commerceDeclaration } from './commerce/declaration.js';
import { crmDeclaration } from './crm/declaration.js';
import { emailDeclaration } from './email/declaration.js';
import { messagingDeclaration } from './messaging/declaration.js';

/**
 * The role subgraphs, each reading one platform: the one list of them. A new role is its folder
 * (`subgraphs/<role>/` with `declaration.ts`, `schema/<role>.graphql`) and a line here; `npm run
 * codegen` carries its name, port and scope to the layers below.
 */
export const ROLE_DECLARATIONS = [
  crmDeclaration,
  emailDeclaration,
  commerceDeclaration,
  adsDeclaration,
  messagingDeclaration,
] as const;
