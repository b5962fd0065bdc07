import type { DeliveryService } from '../../deliveries/service.js';
import type { EventLog } from '../../lib/events/log/types.js';
import type { Logger } from '../../lib/logger.js';
import type { SyncDirectory } from '../../syncs/directory.js';
import type { SubgraphAuth } from '../kit/gateway-auth.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { EventsContext } from './context.js';
import { resolvers } from './resolvers.js';
import type { SelectionCheck } from './webhook-selection.js';

export interface EventsSubgraphConfig {
  log: EventLog;
  /** The batch syncs this process runs, for `syncs`, `syncRuns`, `runSync`. @default none */
  syncs?: SyncDirectory;
  auth: SubgraphAuth;
  /** Webhook endpoints' management (`webhookEndpoints`, `createWebhookEndpoint`...). Absent: webhooks out are off. */
  deliveries?: DeliveryService;
  /** Checks endpoint selections against the federated graph. Absent: endpoints cannot have one. */
  checkSelection?: SelectionCheck;
}

/**
 * Builds the `events` subgraph: marketing events from the event log, for queries and for the
 * schema of subscriptions. The gateway process serves it (at `/subgraphs/events/graphql`), next to
 * the webhook endpoints and the log they write.
 */
export function buildEventsSubgraph(config: EventsSubgraphConfig, logger: Logger): Promise<SubgraphServer> {
  return buildSubgraphServer<EventsContext>({
    name: 'events',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: 10_000,
    context: (request) => ({
      request,
      log: config.log,
      deliveries: config.deliveries,
      checkSelection: config.checkSelection,
      ...(config.syncs ? { syncs: config.syncs } : {}),
    }),
  });
}
