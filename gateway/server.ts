// First: turns @apollo/gateway's calls home off before it is loaded, for every embedder of the gateway.
import '../lib/config/apollo-telemetry.js';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Agent } from 'undici';
import { readDeclarations } from '../lib/auth/requirements.js';
import { SYSTEM_CALLERS } from '../lib/auth/system-callers.js';
import { ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { REQUEST_ID_HEADER, requestIdFrom } from '../lib/request-context.js';
import { sendGraphQLError } from '../lib/server/graphql-http.js';
import { DEFAULT_REQUEST_DEADLINE, type GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { formatGatewayError } from './errors.js';
import { createHealthCheck, publicHealth } from './health.js';
import { createAccessControl } from './access.js';
import type { ClientUsage } from './auth/anomaly.js';
import { authorizationResponsePlugin } from './auth/operation-gate.js';
import { PlannedKeyFields } from './auth/planned-keys.js';
import { DocumentChecker } from './pipeline/documents.js';
import { operationLimitRules } from './pipeline/limits.js';
import { OperationPipeline } from './pipeline/pipeline.js';
import { DEFAULT_SUBSCRIPTION_CAPS, SubscriptionSlots } from './pipeline/subscription-slots.js';
import { recordErrorsPlugin } from './plugins/record-errors.js';
import { coalesceQueries, serialiseSharedResults } from './plugins/coalesce-queries.js';
import { createHttpTransport, sendRefusal } from './transports/http.js';
import { createSseHandler } from './transports/sse.js';
import { attachWebSocket } from './transports/ws.js';
import { deprecatedUsagePlugin } from './plugins/deprecated-usage.js';
import { responseCache } from './plugins/response-cache.js';
import { enforceSharedScalars } from './scalars.js';
import { gatewayLoadableSupergraph } from './supergraph.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { closeSubgraphAgents, createSubgraphAgents } from './subgraph-http.js';
import { assertNoDemoWebhookSecrets } from '../events/production-guard.js';
import { holdNamesOneByte } from './one-byte-names.js';
import { startEventRuntime, type EventRuntime } from './event-runtime.js';
import { createMetricsEndpoint, METRICS_SCOPE } from './metrics-endpoint.js';
import { createExplorer } from './explorer/serve.js';
import { createStatusPage } from './status/serve.js';
import { parse, type GraphQLSchema } from 'graphql';
import type { AddressInfo } from 'node:net';

/** Where the gateway serves the `events` subgraph, next to the event log it reads. */
export const EVENTS_SUBGRAPH_PATH = '/subgraphs/events';

export interface Gateway {
  server: Server;
  apollo: ApolloServer<GatewayContext>;
  events: EventRuntime;
  /** Each client's usage against its own baseline (the anomaly detector), for the alert rules. */
  clientUsage(): ClientUsage[];
  /**
   * Ends the long-lived connections (WebSockets, SSE streams) so the listener can close: call it
   * before closing the listener. `stop` does it too.
   */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Builds (does not start) the gateway: the committed supergraph served by @apollo/gateway through
 * Apollo Server on Node's http server, with `/graphql` (HTTP and graphql-ws), `/graphql/stream`
 * (SSE), `/webhooks/*`, `/health`, and the `events` subgraph it serves itself.
 */
export async function buildGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  // Before anything starts: a production gateway must not take webhooks signed with demo secrets.
  assertNoDemoWebhookSecrets(config.events.webhooks, config.mode);
  const supergraphSdl = readFileSync(config.supergraphFile, 'utf8');
  // Before Apollo's schema building uses them as property names (one-byte-names.ts says why).
  holdNamesOneByte(supergraphSdl);
  const loadableSupergraph = gatewayLoadableSupergraph(supergraphSdl);
  // Health probes and the event runtime's calls: undici. Operations' subgraph fetches: Node's own
  // client (subgraph-http.ts says why).
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000, pipelining: 1 });
  const subgraphAgents = createSubgraphAgents({ maxSockets: 128, idleMs: 30_000 });
  const development = config.mode !== 'production';
  const supergraphDocument = parse(supergraphSdl);
  // Read once, the way every subgraph reads its own SDL: who may read what, and the key fields.
  const declarations = readDeclarations(supergraphDocument);
  const plannedKeys = new PlannedKeyFields(supergraphDocument, declarations);
  const access = createAccessControl({
    config,
    declarations,
    development,
    store: config.cacheStore,
    logger,
  });
  let loaded = false;
  let apiSchema: GraphQLSchema | undefined;
  // The events subgraph is called over HTTP like the others, on this server's own port.
  const self: { server?: Server } = {};
  const selfEventsUrl = () => {
    const address = self.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the gateway is not listening yet');
    const host = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
    return `http://${address.family === 'IPv6' && host !== '127.0.0.1' ? `[${host}]` : host}:${address.port}${EVENTS_SUBGRAPH_PATH}/graphql`;
  };
  const subgraphUrl = (name: string, fallback: string | undefined): string | (() => string) => {
    if (name === 'events') return config.subgraphUrls.events ?? selfEventsUrl;
    return config.subgraphUrls[name as keyof typeof config.subgraphUrls] ?? fallback ?? '';
  };
  const gateway = new ApolloGateway({
    supergraphSdl: loadableSupergraph,
    logger: logger.child({ component: 'apollo-gateway' }),
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: subgraphUrl(name, url),
        timeoutMs: config.subgraphTimeoutMs,
        agents: subgraphAgents,
        signer: access.signer,
        plannedKeys,
      }),
  });
  const documents = new DocumentChecker(operationLimitRules(), development);
  gateway.onSchemaLoadOrUpdate((update) => {
    enforceSharedScalars(update.apiSchema);
    documents.useSchema(update.apiSchema);
    access.operations.useSchema(update.apiSchema);
    apiSchema = update.apiSchema;
    loaded = true;
  });
  const apollo = new ApolloServer<GatewayContext>({
    // Apollo's own messages go to the same log as everything else, never to the console.
    logger: logger.child({ component: 'apollo-server' }),
    // Identical queries in flight for one client share one execution (every check still runs).
    gateway: coalesceQueries(gateway),
    stringifyResult: serialiseSharedResults(),
    plugins: [
      // Apollo's landing page loads from a CDN; browsers get our own explorer instead.
      ApolloServerPluginLandingPageDisabled(),
      deprecatedUsagePlugin(),
      ...(config.cacheStore && (config.responseCache ?? true)
        ? [responseCache(config.cacheStore, logger)]
        : []),
      // After the response cache: a cached entry never holds the FORBIDDEN errors, which are put
      // back on every response, hit or miss.
      authorizationResponsePlugin(),
      // Last: it records what every plugin before it added, for the pipeline's log line.
      recordErrorsPlugin(),
    ],
    // Parse, validation and the operation limits run in the request pipeline, before Apollo, for
    // every transport; Apollo validates the admitted text with the standard rules only.
    formatError: formatGatewayError(logger, development),
    includeStacktraceInErrorResponses: false,
    // Introspection is allowed per caller by the operation gate (scope `schema:read`).
    introspection: true,
    // Automatic persisted queries would let a hash stand in for an operation the gate never saw.
    persistedQueries: false,
    csrfPrevention: true,
    // One operation per HTTP request: batched arrays multiply work behind one request.
    allowBatchedHttpRequests: false,
  });
  await apollo.start();

  const health = createHealthCheck({
    subgraphUrls: { ...config.subgraphUrls, events: subgraphUrl('events', undefined) },
    agent,
    isLoaded: () => loaded,
    probeHeaders: async (subgraph, body) => ({
      authorization: `Bearer ${await access.signer.tokenFor(subgraph, { clientId: SYSTEM_CALLERS.health, scopes: [] }, { body })}`,
    }),
  });
  const maxBodyBytes = config.maxBodyBytes ?? 1_000_000;
  const pipeline = new OperationPipeline({
    authenticate: access.authenticate,
    limiter: access.limiter,
    rateLimitFor: access.rateLimitFor,
    anomalies: access.anomalies,
    documents,
    permissions: access.operations,
    slots: new SubscriptionSlots(),
    subscriptionCaps: config.subscriptionCaps ?? DEFAULT_SUBSCRIPTION_CAPS,
    subscriptionCapFor: access.subscriptionCapFor,
    apollo,
    deadline: config.requestDeadline ?? DEFAULT_REQUEST_DEADLINE,
    logger,
  });
  const graphql = createHttpTransport({ pipeline, apollo, maxBodyBytes });

  const explorer = createExplorer({
    introspectionForAll: development,
    logger: logger.child({ component: 'explorer' }),
  });

  const status = createStatusPage();

  const http = createServer({ keepAlive: true }, (req, res) => {
    const fail = (error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent)
        sendGraphQLError(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    };
    // Operations, the bulk of requests, are routed without parsing a URL (issue 17, target 2): a
    // POST to exactly /graphql is what the routes below give it (the explorer takes GETs only).
    if (req.url === '/graphql' && req.method === 'POST') {
      graphql(req, res, '').catch(fail);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (explorer.handles(req, url.pathname)) {
      explorer.serve(req, res, url.pathname).catch(fail);
      return;
    }
    if (url.pathname === '/graphql') {
      graphql(req, res, url.search).catch(fail);
      return;
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      metrics(req, res).catch(fail);
      return;
    }
    if (url.pathname === '/graphql/stream') {
      sse(req, res).catch(fail);
      return;
    }
    if (url.pathname.startsWith('/webhooks/')) {
      events.ingest(req, res, url).catch(fail);
      return;
    }
    if (url.pathname.startsWith(`${EVENTS_SUBGRAPH_PATH}/`)) {
      req.url = (req.url ?? '/').slice(EVENTS_SUBGRAPH_PATH.length);
      config.events.subgraph.handle(req, res);
      return;
    }
    if (url.pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      serveHealth(req, res).catch(fail);
      return;
    }
    if (status.handles(url.pathname)) {
      status.serve(req, res, url.pathname);
      return;
    }
    sendGraphQLError(
      res,
      404,
      `Nothing at ${url.pathname}. GraphQL is served at /graphql (graphql-ws on the same path, SSE at /graphql/stream), webhooks at /webhooks/<source>, health at /health, metrics at /metrics, the explorer at /explorer, integration health at /status.`,
      ErrorCode.BAD_REQUEST,
    );
  });
  // Timeouts and the connection cap are set where it listens (lib/server/listen.ts, HTTP_* variables).
  self.server = http;

  const events = await startEventRuntime({
    config: config.events,
    apollo,
    schema: () => apiSchema,
    subgraphUrls: config.subgraphUrls,
    signer: access.signer,
    agent,
    requestBudgetMs: config.subgraphTimeoutMs,
    registeredIdentity: (clientId) => access.registeredIdentity(clientId),
    logger: logger.child({ component: 'events' }),
  });

  const closeWebSocket = attachWebSocket({
    server: http,
    path: '/graphql',
    pipeline,
    subscriptions: events.subscriptions,
    maxPayloadBytes: maxBodyBytes,
    logger: logger.child({ component: 'graphql-ws' }),
  });
  const sse = createSseHandler({
    pipeline,
    subscriptions: events.subscriptions,
    logger: logger.child({ component: 'sse' }),
  });

  const metrics = createMetricsEndpoint({
    admit: (source) => pipeline.admitEndpoint(source, METRICS_SCOPE, 'metrics'),
    log: config.events.log,
    subscribers: () => events.hub.subscriberCount,
    gauges: async () => (events.deliveries ? events.deliveries.gauges() : []),
  });

  /**
   * `/health` answers load balancers without credentials (status only); the report naming each
   * subgraph and why it fails is for a caller with `metrics:read`, through the same gate.
   */
  async function serveHealth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    const withCredentials = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;
    if (withCredentials) {
      const admitted = await pipeline.admitEndpoint(req, METRICS_SCOPE, 'the health details');
      if (!admitted.ok) {
        sendRefusal(res, admitted.refusal, requestId);
        return;
      }
    }
    const report = await health();
    const body = JSON.stringify(withCredentials ? report : publicHealth(report));
    res.writeHead(report.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      [REQUEST_ID_HEADER]: requestId,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  let drained: Promise<void> | undefined;
  const drain = () =>
    (drained ??= (async () => {
      await closeWebSocket();
      await events.stop();
    })());
  return {
    server: http,
    apollo,
    events,
    clientUsage: () => access.anomalies.usage(),
    drain,
    async stop() {
      await drain();
      // The registry watcher and its SIGHUP handler go first: nothing of the gateway may outlive stop.
      access.close();
      await apollo.stop();
      await agent.close();
      closeSubgraphAgents(subgraphAgents);
    },
  };
}
