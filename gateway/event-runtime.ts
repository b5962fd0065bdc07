import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Agent } from 'undici';
import { subgraphInvalidation } from '../events/invalidation.js';
import { enrichedPayload } from '../events/webhook-enrichment.js';
import { startEventPipeline, type EventPipeline, type EventsConfig } from '../events/runtime.js';
import type { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import type { PlatformSubgraphName } from '../lib/graphql/subgraph-names.js';
import type { Logger } from '../lib/logger.js';
import { createRequestContext } from '../lib/request-context.js';
import type { GatewayContext } from './context.js';
import { EVENT_PROCESSOR, type ClientIdentity } from './identity.js';
import type { CustomerResult } from './subscriptions/payload.js';
import { SubscriptionService } from './subscriptions/service.js';

const EMAIL_QUERY = 'query EventSubscriptionCustomer($id: ID) { customer(id: $id) { email } }';

export interface EventRuntime extends EventPipeline {
  /** Event streams for admitted subscriptions, whatever their transport. */
  subscriptions: SubscriptionService;
}

/**
 * The event pipeline (events/) inside the gateway, and the subscriptions that stream what it
 * delivers (the transports that carry them live with the gateway's other transports). Every graph
 * read either makes goes through the federated path as a named client, never around the
 * permissions: the processor's as EVENT_PROCESSOR, a subscriber's as that subscriber.
 */
export async function startEventRuntime(options: {
  config: EventsConfig;
  apollo: ApolloServer<GatewayContext>;
  schema(): GraphQLSchema | undefined;
  /** Where each platform subgraph's `POST /cache/invalidate` is. */
  subgraphUrls: Record<PlatformSubgraphName, string>;
  signer: GatewayTokenSigner;
  agent: Agent;
  requestBudgetMs: number;
  /** A registered client by id: the owner of a webhook endpoint, whose permissions read its enrichment. */
  registeredIdentity(clientId: string): ClientIdentity | undefined;
  logger: Logger;
}): Promise<EventRuntime> {
  const { apollo, logger } = options;

  /**
   * A read the gateway makes itself (routing context, a subscriber's customer fields, built from an
   * operation the pipeline already admitted): the same plan, caches and subgraph permissions as a
   * client's query.
   */
  async function run(
    identity: ClientIdentity,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<CustomerResult> {
    const response = await apollo.executeOperation(
      { query, variables },
      {
        contextValue: {
          request: createRequestContext(logger, randomUUID(), options.requestBudgetMs),
          client: identity,
        },
      },
    );
    if (response.body.kind !== 'single')
      return { errors: [{ message: 'Incremental delivery is not supported here.' }] };
    const { data, errors } = response.body.singleResult;
    return { ...(data !== undefined ? { data } : {}), ...(errors ? { errors } : {}) };
  }

  async function emailOf(customerId: string): Promise<string | undefined> {
    const result = await run(EVENT_PROCESSOR, EMAIL_QUERY, { id: customerId });
    const customer = result.data?.['customer'] as { email?: string | null } | null | undefined;
    return customer?.email ?? undefined;
  }

  const pipeline = await startEventPipeline({
    config: options.config,
    readGraph: (query, variables) => run(EVENT_PROCESSOR, query, variables),
    invalidate: subgraphInvalidation({
      subgraphUrls: options.subgraphUrls,
      signer: options.signer,
      caller: { clientId: EVENT_PROCESSOR.id, scopes: EVENT_PROCESSOR.scopes },
      agent: options.agent,
    }),
    // Webhook payloads with the endpoint's selection, read as its owner: never more than it may see.
    payload: enrichedPayload(async (clientId, query, variables) => {
      const owner = options.registeredIdentity(clientId);
      return owner ? run(owner, query, variables) : undefined;
    }),
    logger,
  });
  const subscriptions = new SubscriptionService({
    hub: pipeline.hub,
    schema: options.schema,
    run,
    emailOf,
    logger: logger.child({ component: 'subscriptions' }),
  });
  return { ...pipeline, subscriptions };
}
