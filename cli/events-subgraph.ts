import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { selectionChecker } from '../events/webhook-enrichment.js';
import { publicJwksOf } from '../lib/auth/gateway-token.js';
import type { DeliveryService } from '../deliveries/index.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { buildEventsSubgraph } from '../subgraphs/events/index.js';
import type { SubgraphServer } from '../subgraphs/kit/server.js';
import type { SyncDirectory } from '../syncs/directory.js';

/**
 * The `events` subgraph a gateway serves next to its event log, accepting that gateway's caller
 * tokens. Wired here, at the composition root, because the gateway never imports a subgraph.
 */
export function eventsSubgraphFor(
  log: EventLog,
  gatewayTokenKey: JWK,
  logger: Logger,
  /**
   * Webhook endpoints' management, and the supergraph their selections are checked against;
   * without it the endpoint fields answer that webhooks out are off.
   */
  webhooks?: { service: DeliveryService; supergraphFile: string },
  syncs?: SyncDirectory,
): Promise<SubgraphServer> {
  return buildEventsSubgraph(
    {
      log,
      auth: { jwks: publicJwksOf(gatewayTokenKey) },
      ...(syncs ? { syncs } : {}),
      ...(webhooks
        ? {
            deliveries: webhooks.service,
            checkSelection: selectionChecker(readFileSync(webhooks.supergraphFile, 'utf8')),
          }
        : {}),
    },
    logger.child({ subgraph: 'events' }),
  );
}
