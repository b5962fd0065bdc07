import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { selectionChecker } from '../events/webhook-enrichment.js';
import { publicJwksOf } from '../lib/auth/gateway-token.js';
import type { DeliveryService } from '../deliveries/index.js';
import { ErrorCode } from '../lib/errors.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { sendGraphQLError } from '../lib/server/graphql-http.js';
import type { SubgraphServer } from '../subgraphs/kit/server.js';
import type { SyncDirectory } from '../syncs/directory.js';
import { onFirstUse } from '../platforms/kit/lazy.js';

/** What a gateway needs of the `events` subgraph it serves: a request listener, and a stop. */
export interface MountedSubgraph {
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

/**
 * The `events` subgraph a gateway serves next to its event log, accepting that gateway's caller
 * tokens. Wired here, at the composition root, because the gateway never imports a subgraph.
 */
export async function eventsSubgraphFor(
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
  // Loaded here, not at the top: a gateway whose clients never query `events` never needs its
  // schema, resolvers or @apollo/subgraph (lazyEventsSubgraphFor below).
  const { buildEventsSubgraph } = await import('../subgraphs/events/index.js');
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

/**
 * The same subgraph, built by its first request rather than at start (issue 17, target 2): its
 * own Apollo Server and schema, and the supergraph's API schema its webhook selections are checked
 * against, held memory in every gateway, including those whose clients never query `events`
 * (a few MB of heap at ready, and V8 lets old space grow to a multiple of the live heap under
 * load). Requests that arrive while it is built wait for it; a failed build answers 503 and is
 * tried again by the next request.
 */
export function lazyEventsSubgraphFor(...args: Parameters<typeof eventsSubgraphFor>): MountedSubgraph {
  const logger = args[2];
  const subgraph = onFirstUse(async () => {
    const server = await eventsSubgraphFor(...args);
    return { server, close: () => server.stop() };
  });
  return {
    handle(req, res) {
      subgraph.get().then(
        ({ server }) => server.handle(req, res),
        (error: unknown) => {
          logger.error({ err: error, subgraph: 'events' }, 'the events subgraph could not be built');
          req.resume();
          if (!res.headersSent)
            sendGraphQLError(
              res,
              503,
              'The events subgraph is unavailable.',
              ErrorCode.INTERNAL_SERVER_ERROR,
            );
        },
      );
    },
    stop: () => subgraph.close(),
  };
}
