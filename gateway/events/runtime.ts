import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { request, type Agent } from 'undici';
import type { GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import type { CustomerRef } from '../../lib/events/event.js';
import type { EventLog } from '../../lib/events/log/types.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import { createRequestContext } from '../../lib/request-context.js';
import type { GatewayContext } from '../context.js';
import { EVENT_PROCESSOR, type ClientIdentity } from '../identity.js';
import { EventHub } from './hub.js';
import { createWebhookIngest, type WebhookSecrets } from './ingest.js';
import type { CustomerResult } from './payload.js';
import {
  EventProcessor,
  type CachingSubgraph,
  type ChangedCustomer,
  type Invalidations,
} from './processor.js';
import type { CustomerContext, RoutingRule } from './routing.js';
import { SubscriptionService } from './subscriptions.js';

/** The event pipeline's configuration, with its log already opened by the caller (who closes it). */
export interface EventsConfig {
  log: EventLog;
  /**
   * The `events` subgraph over this log, served by the gateway at `/subgraphs/events/` (built by
   * the caller: the gateway reaches subgraphs over HTTP only, never through their modules).
   */
  subgraph: { handle(req: IncomingMessage, res: ServerResponse): void };
  webhooks: WebhookSecrets;
  publicUrl?: string;
  /** Proxies whose `X-Forwarded-Proto`/`-Host` give the URI HubSpot signed (`TRUSTED_PROXIES`). */
  trustedProxies?: readonly string[];
  routingRules: readonly RoutingRule[];
  retention: { maxAgeMs: number; maxEvents: number };
  processor?: { concurrency?: number; maxAttempts?: number; retryBaseMs?: number; visibilityMs?: number };
}

export interface EventRuntime {
  /** `/webhooks/*`. */
  ingest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  processor: EventProcessor;
  hub: EventHub;
  /** Event streams for admitted subscriptions, whatever their transport. */
  subscriptions: SubscriptionService;
  /** Ends every subscriber's stream and stops processing; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The customer context the routing rules ask about, and nothing more: each field read costs calls
 * to a platform with its own rate limit (lifetime value is Shopify's, at 2 calls/s on a standard
 * plan), so fields no rule uses are not selected.
 */
function routingQuery(rules: readonly RoutingRule[]): string {
  const uses = (key: 'lifecycleStages' | 'inLists' | 'lifetimeValueAtLeast') =>
    rules.some((rule) => rule.when.customer?.[key] !== undefined);
  const fields = [
    'id',
    'email',
    uses('lifecycleStages') ? 'lifecycleStage' : '',
    uses('inLists') ? 'lists { name }' : '',
    uses('lifetimeValueAtLeast') ? 'lifetimeValue { amount }' : '',
  ].filter(Boolean);
  return `query EventRoutingContext($id: ID, $email: String) { customer(id: $id, email: $email) { ${fields.join(' ')} } }`;
}
const EMAIL_QUERY = 'query EventSubscriptionCustomer($id: ID) { customer(id: $id) { email } }';

interface RoutingCustomer {
  id: string;
  email: string | null;
  lifecycleStage?: string | null;
  lists?: { name: string }[] | null;
  lifetimeValue?: { amount: string } | null;
}

/**
 * The real-time half of the gateway, wired together: webhook ingest into the durable log, the
 * processor (invalidate, enrich, route, deliver), the hub reading delivered events, and the event
 * streams of admitted subscriptions (the transports that carry them live with the gateway's other
 * transports). Every graph read it makes goes through the federated path as a named client, never
 * around the permissions.
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
  logger: Logger;
}): Promise<EventRuntime> {
  const { config, apollo, logger } = options;
  const log = config.log;

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

  const contextQuery = routingQuery(config.routingRules);
  async function customerContext(ref: CustomerRef): Promise<CustomerContext | null> {
    const result = await run(EVENT_PROCESSOR, contextQuery, ref.id ? { id: ref.id } : { email: ref.email });
    // Any error (a platform down, a timeout) is transient for routing: the event is retried.
    if (result.errors?.length)
      throw new Error(`reading the customer failed: ${result.errors[0]?.message ?? 'unknown error'}`);
    const customer = result.data?.['customer'] as RoutingCustomer | null | undefined;
    if (!customer) return null;
    return {
      id: customer.id,
      email: customer.email,
      lifecycleStage: customer.lifecycleStage ?? null,
      lists: (customer.lists ?? []).map((list) => list.name),
      lifetimeValue: customer.lifetimeValue?.amount ?? null,
    };
  }

  async function emailOf(customerId: string): Promise<string | undefined> {
    const result = await run(EVENT_PROCESSOR, EMAIL_QUERY, { id: customerId });
    const customer = result.data?.['customer'] as { email?: string | null } | null | undefined;
    return customer?.email ?? undefined;
  }

  async function invalidate(changes: Invalidations): Promise<void> {
    await Promise.all(
      (Object.entries(changes) as [CachingSubgraph, ChangedCustomer[]][]).map(async ([name, targets]) => {
        // The endpoint takes up to 500 targets; a claimed batch is smaller, but a config may not be.
        for (let i = 0; i < targets.length; i += 500) await invalidateAt(name, targets.slice(i, i + 500));
      }),
    );
  }

  async function invalidateAt(name: CachingSubgraph, targets: readonly ChangedCustomer[]): Promise<void> {
    const url = options.subgraphUrls[name].replace(/\/graphql$/, '/cache/invalidate');
    const body = JSON.stringify({ targets });
    // Good for this body at this subgraph, once.
    const token = await options.signer.tokenFor(
      name,
      { clientId: EVENT_PROCESSOR.id, scopes: EVENT_PROCESSOR.scopes },
      { body },
    );
    const response = await request(url, {
      method: 'POST',
      dispatcher: options.agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await response.body.dump();
    if (response.statusCode >= 300)
      throw new Error(`the ${name} subgraph answered ${response.statusCode} to a cache invalidation`);
  }

  const hub = new EventHub(log, logger.child({ component: 'event-hub' }));
  await hub.start();
  const processor = new EventProcessor({
    log,
    rules: config.routingRules,
    customerContext,
    invalidate,
    logger: logger.child({ component: 'event-processor' }),
    ...config.processor,
  });
  processor.start();
  const subscriptions = new SubscriptionService({
    hub,
    schema: options.schema,
    run,
    emailOf,
    logger: logger.child({ component: 'subscriptions' }),
  });
  const ingest = createWebhookIngest({
    log,
    secrets: config.webhooks,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.trustedProxies ? { trustedProxies: config.trustedProxies } : {}),
    onAppended: () => processor.wake(),
    logger: logger.child({ component: 'webhooks' }),
  });

  // Retention: delivered events older than the window, or beyond the count, are pruned hourly.
  const prune = () =>
    log
      .prune(config.retention)
      .then((pruned) => {
        if (pruned > 0) logger.info({ pruned }, 'event log pruned past retention');
      })
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'pruning the event log failed; retrying next hour'),
      );
  void prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000);
  pruneTimer.unref();

  let stopped: Promise<void> | undefined;
  return {
    ingest,
    processor,
    hub,
    subscriptions,
    stop() {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        hub.stop();
        await processor.stop();
      })();
      return stopped;
    },
  };
}
