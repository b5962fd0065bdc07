import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { VerifiedGatewayToken } from '../../lib/auth/gateway-token.js';
import { isSystemCaller } from '../../lib/auth/system-callers.js';
import { ErrorCode, publicErrorCodes } from '../../lib/errors.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import {
  budgetFromDeadlineHeader,
  createRequestContext,
  DEADLINE_HEADER,
  REQUEST_ID_HEADER,
  requestIdFrom,
  type RequestContext,
} from '../../lib/request-context.js';
import { createGraphQLHandler, sendGraphQLError } from '../../lib/server/graphql-http.js';
import { createTokenMetricsEndpoint, holdsToken } from '../../lib/server/metrics-endpoint.js';
import { withServerSpan } from '../../lib/telemetry/tracing.js';
import type { SubgraphContext } from './context.js';
import { createGatewayAuthenticator, GATEWAY_ONLY_MESSAGE, type SubgraphAuth } from './gateway-auth.js';
import { applyFieldPermissions } from './permissions.js';
import { subgraphTypeDefs } from './schema-file.js';
import { invalidationRequestSchema, readJsonBody, type InvalidationTarget } from './invalidation.js';

/** The resolver map `buildSubgraphSchema` takes (its type is not exported from the package root). */
type ResolverMap = NonNullable<
  Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown; resolvers?: unknown }>['resolvers']
>;

export interface SubgraphServerOptions<C extends SubgraphContext> {
  name: SubgraphName;
  /** Typed by the subgraph with its generated `Resolvers`, which is structurally a ResolverMap. */
  resolvers: object;
  logger: Logger;
  /**
   * Required: every `/graphql` request must carry a gateway token for this subgraph, checked
   * against these keys before GraphQL runs. `/health` stays open (it returns no data; the platform's
   * details only to the `auth.metricsToken` holder); `/metrics` takes `auth.metricsToken`.
   */
  auth: SubgraphAuth;
  /** Adds the subgraph's connector and a fresh set of loaders to each request (the kit adds the caller). */
  context(
    request: RequestContext,
    req: IncomingMessage,
  ): SubgraphOwnContext<C> | Promise<SubgraphOwnContext<C>>;
  /**
   * Time budget of one request, shared by all its upstream calls and retries: the most it may have,
   * and what it has when the gateway sends no deadline (`x-request-deadline-ms`, what is left of the
   * client's).
   */
  requestBudgetMs: number;
  /** Called by `/health`; resolves when the subgraph can serve (its connector is configured). */
  healthCheck?: () => Promise<void>;
  /**
   * What `/health` adds about the platform behind the subgraph (missing grants, a spent daily
   * limit, the API version served) without failing it: the subgraph still serves.
   */
  healthDetails?: (request: RequestContext) => Promise<Record<string, unknown>>;
  plugins?: ApolloServerPlugin<C>[];
  /** Drops cached records the gateway says changed; subgraphs without a record cache omit it. */
  invalidate?: (targets: readonly InvalidationTarget[]) => Promise<void>;
  close?: () => Promise<void>;
}

/** What a subgraph's `context` builds: its context without the caller, which the kit adds. */
export type SubgraphOwnContext<C extends SubgraphContext> = Omit<C, 'caller'>;

export interface SubgraphServer {
  server: Server;
  /** The request listener of `server`, for mounting the subgraph on another server (the gateway's). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  apollo: ApolloServer<SubgraphContext>;
  /** Stops Apollo and releases the connector's connections (the http server is closed by its owner). */
  stop(): Promise<void>;
}

/**
 * Errors leave a subgraph with a public code and the subgraph's name. Anything that is not a coded
 * GraphQLError (a bug, a crash in a library) is logged with its stack and masked for the caller.
 */
function formatErrorFor(name: SubgraphName, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Down to the first error that is not a wrapper, so the log has the real stack.
    let original: unknown = error;
    while (original instanceof GraphQLError && original.originalError) original = original.originalError;
    const code = formatted.extensions?.['code'];
    if (typeof code === 'string' && publicErrorCodes.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, subgraph: name } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in resolver');
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, subgraph: name },
    };
  };
}

/** One log line per operation, with the request id the gateway passed along and who it was for. */
function operationLogPlugin<C extends SubgraphContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName, errors }) {
          const status =
            response.body.kind === 'single' ? (response.body.singleResult.errors?.length ?? 0) : 0;
          const { clientId } = contextValue.caller;
          // The gateway's own reads (event routing, health) are background work: debug, not info.
          const level = isSystemCaller(clientId) ? 'debug' : 'info';
          contextValue.request.logger[level](
            {
              operationName,
              clientId,
              ms: Math.round(performance.now() - started),
              errors: errors?.length ?? status,
            },
            'subgraph operation',
          );
        },
      };
    },
  };
}

/** Builds (does not start) the HTTP server of one subgraph: `/graphql`, `/health` and `/metrics`. */
export async function buildSubgraphServer<C extends SubgraphContext>(
  options: SubgraphServerOptions<C>,
): Promise<SubgraphServer> {
  const logger = options.logger;
  const subgraphSchema = buildSubgraphSchema({
    typeDefs: subgraphTypeDefs(options.name),
    resolvers: options.resolvers as ResolverMap,
  });
  // Every field declares who may read it (composition refuses one that does not), so nothing here
  // is undeclared; the permissions deny one anyway, as the gateway does.
  const schema =
    options.auth.fieldPermissions === false
      ? subgraphSchema
      : applyFieldPermissions(options.name, subgraphSchema).schema;
  const apollo = new ApolloServer<C>({
    schema,
    // Apollo's own messages go to the same log as everything else, never to the console.
    logger: logger.child({ component: 'apollo-server' }),
    // Inline traces (ftv1) serve Apollo's hosted studio, which this product does not use; they cost time per field.
    plugins: [ApolloServerPluginInlineTraceDisabled(), operationLogPlugin<C>(), ...(options.plugins ?? [])],
    formatError: formatErrorFor(options.name, logger),
    includeStacktraceInErrorResponses: false,
    // The gateway calls subgraphs with POST + JSON; CSRF prevention stays on for any browser.
    csrfPrevention: true,
  });
  await apollo.start();
  const gatewayAuth = createGatewayAuthenticator(options.name, options.auth, logger);
  // The verified token of each request and its time budget, for the checks and the context after the body is read.
  const admittedRequests = new WeakMap<
    IncomingMessage,
    { token: VerifiedGatewayToken; budgetMs: number; arrivedAt: number }
  >();
  const handler = createGraphQLHandler(apollo, {
    maxBodyBytes: 2_000_000,
    // A token the gateway bound to its body is good for that body only (`planned` is for that fetch).
    prepare: async (req, input) => {
      const token = admittedRequests.get(req)?.token;
      if (token && !gatewayAuth.bound(token, input.raw))
        return gatewayAuth.refusal('unbound', 'the body is not the one the token was signed for');
      return input;
    },
    context: async (req) => {
      const admitted = admittedRequests.get(req);
      // Unreachable: the handler only runs after authenticate() stored the token.
      if (!admitted) throw new Error('subgraph request reached GraphQL without a verified caller');
      const { token, budgetMs, arrivedAt } = admitted;
      const caller = token.caller;
      const request = createRequestContext(
        logger,
        requestIdFrom(req.headers[REQUEST_ID_HEADER]),
        budgetMs,
        arrivedAt,
      );
      const own = await options.context(request, req);
      // C is the subgraph's context, which is its own part plus the caller.
      return { ...own, caller } as C;
    },
  });
  const serveGraphQL = async (req: IncomingMessage, res: ServerResponse, search: string) => {
    const arrivedAt = Date.now();
    const token = await gatewayAuth.authenticate(req, res);
    if (!token) return;
    const budget = budgetFromDeadlineHeader(
      req.headers[DEADLINE_HEADER],
      options.requestBudgetMs,
      options.requestBudgetMs,
    );
    if (!budget.ok) {
      req.resume();
      sendGraphQLError(res, 400, budget.message, ErrorCode.BAD_REQUEST);
      return;
    }
    admittedRequests.set(req, { token, budgetMs: budget.budgetMs, arrivedAt });
    await handler(req, res, search);
  };

  /** `POST /cache/invalidate`: the gateway says records changed (a webhook arrived); drop them. */
  const serveInvalidation = async (req: IncomingMessage, res: ServerResponse) => {
    const token = await gatewayAuth.authenticate(req, res);
    if (!token) return;
    const { raw, json } = await readJsonBody(req);
    if (!gatewayAuth.bound(token, raw)) {
      const refusal = gatewayAuth.refusal('unbound', 'the body is not the one the token was signed for');
      sendGraphQLError(res, refusal.status, GATEWAY_ONLY_MESSAGE, ErrorCode.UNAUTHENTICATED, refusal.headers);
      return;
    }
    const parsed = invalidationRequestSchema.safeParse(json);
    if (!parsed.success) {
      sendGraphQLError(
        res,
        400,
        `Invalid invalidation request: ${parsed.error.issues[0]?.message ?? 'bad body'}`,
        ErrorCode.BAD_REQUEST,
      );
      return;
    }
    await options.invalidate?.(parsed.data.targets);
    res.writeHead(204);
    res.end();
  };

  // The upstream, breaker and cache counters of this subgraph's platform calls live in this process.
  const serveMetrics = createTokenMetricsEndpoint(options.auth.metricsToken);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    const done = (error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent)
        sendGraphQLError(res, 500, 'Internal server error', ErrorCode.INTERNAL_SERVER_ERROR);
      else res.destroy();
    };
    if (url.pathname === '/graphql') {
      withServerSpan(`subgraph ${options.name}`, req.headers, { 'graphql.subgraph': options.name }, () =>
        serveGraphQL(req, res, url.search),
      ).catch(done);
    } else if (url.pathname === '/cache/invalidate' && req.method === 'POST') {
      serveInvalidation(req, res).catch(done);
    } else if (url.pathname === '/metrics' && req.method === 'GET') {
      serveMetrics(req, res).catch(done);
    } else if (url.pathname === '/health' && req.method === 'GET') {
      (options.healthCheck ?? (() => Promise.resolve()))()
        .then(async () => {
          // Missing grants and spent limits are for the operator (the scraper's token), not for anyone.
          const details =
            options.healthDetails && holdsToken(req, options.auth.metricsToken)
              ? await options.healthDetails(createRequestContext(logger, `health-${Date.now()}`, 5_000))
              : {};
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ok', subgraph: options.name, ...details }));
        })
        .catch((error: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              status: 'unavailable',
              subgraph: options.name,
              reason: (error as Error).message,
            }),
          );
        });
    } else {
      sendGraphQLError(
        res,
        404,
        `Nothing at ${url.pathname}; GraphQL is served at /graphql.`,
        ErrorCode.BAD_REQUEST,
      );
    }
  };
  const server = createServer({ keepAlive: true }, handle);
  return {
    server,
    handle,
    apollo: apollo as unknown as ApolloServer<SubgraphContext>,
    async stop() {
      await apollo.stop();
      await options.close?.();
    },
  };
}
