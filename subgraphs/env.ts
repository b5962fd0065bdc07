import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import { ADS_ENV } from './ads/env.js';
import { COMMERCE_ENV } from './commerce/env.js';
import { CRM_ENV } from './crm/env.js';
import { EMAIL_ENV } from './email/env.js';
import { MESSAGING_ENV } from './messaging/env.js';

/**
 * Starting a subgraph on its own (`cli subgraph <name>`): read only that subgraph's variables,
 * so a process holds the credentials of one platform and no other. Kept apart from the subgraphs'
 * code so `--help` and the docs can list them without loading a server.
 */
export const SUBGRAPH_ENV: Record<PlatformSubgraphName, readonly string[]> = {
  crm: CRM_ENV,
  email: EMAIL_ENV,
  commerce: COMMERCE_ENV,
  ads: ADS_ENV,
  messaging: MESSAGING_ENV,
};
