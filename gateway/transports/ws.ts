import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import {
  GraphQLError,
  parse,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../lib/logger.js';
import { DEADLINE_HEADER, REQUEST_ID_HEADER, requestIdFrom } from '../../lib/request-context.js';
import type { CredentialSource } from '../auth/authenticate.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import type { OperationPipeline } from '../pipeline/pipeline.js';
import { runAdmitted } from './run.js';
import { DEFAULT_STALL_MS, StallWatch } from './stall-watch.js';

/** What graphql-ws keeps per connection; credentials once `connection_init` is accepted. */
type Connection = {
  id: string;
  request: IncomingMessage;
  credentials?: CredentialSource;
  /** One abort per running operation, so a `complete` or a closed socket ends it at once. */
  operations: Map<string, AbortController>;
};

/** Close code for a subscriber that stopped reading: "try again later", which clients retry. */
export const SLOW_CONSUMER_CLOSE = 1013;

/** Credentials from `connection_init` (`authorization` or `x-api-key`), else from the upgrade request. */
/** A deadline given in a message's `extensions`, as the header text the pipeline reads. */
function deadlineOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number'
    ? String(value)
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);
}

function credentialsOf(
  params: Readonly<Record<string, unknown>> | undefined,
  upgrade: IncomingMessage,
): CredentialSource {
  const from = (name: string) => {
    const value =
      params?.[name] ?? params?.[name.toLowerCase()] ?? params?.[name.replace(/^./, (c) => c.toUpperCase())];
    return typeof value === 'string' ? value : undefined;
  };
  const authorization = from('authorization');
  const apiKey = from('x-api-key');
  if (!authorization && !apiKey) return upgrade;
  return {
    headers: { ...(authorization ? { authorization } : {}), ...(apiKey ? { 'x-api-key': apiKey } : {}) },
  };
}

const asGraphQLErrors = (errors: readonly GraphQLFormattedError[]) =>
  errors.map(
    (e) =>
      new GraphQLError(e.message, {
        extensions: e.extensions ?? {},
        ...(e.path ? { path: e.path } : {}),
      }),
  );

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the gateway's `/graphql` path. The socket is
 * authenticated at `connection_init` (4403 on bad credentials); then every `subscribe` message is
 * an operation through the pipeline, with the connection's credentials, like an HTTP request.
 *
 * The protocol is graphql-ws's own (`makeServer`); the binding to `ws` is ours rather than the
 * package's `useServer`, which reports socket errors on `console.error`, outside the log, and
 * cannot see a client that stopped reading. Frames are capped like HTTP bodies (ws refuses a
 * larger frame from its header, before reading it, with 1009); a connection with a write pending
 * for `stallMs` is closed with 1013 so the client resumes with `after` (its events meanwhile wait
 * in the hub, which bounds them); idle connections are pinged and dropped when they stop answering.
 */
export function attachWebSocket(options: {
  server: Server;
  path: string;
  pipeline: OperationPipeline;
  subscriptions: SubscriptionService;
  /** Largest frame accepted; the HTTP body limit. */
  maxPayloadBytes: number;
  /** How long a write may wait for a client that stopped reading before it is closed with 1013. @default 10000 */
  stallMs?: number;
  /** Ping interval; a connection that does not answer within it is dropped. @default 12000 */
  keepAliveMs?: number;
  logger: Logger;
}): () => Promise<void> {
  const { pipeline, logger } = options;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const keepAliveMs = options.keepAliveMs ?? 12_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, handleProtocols });
  options.server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== options.path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const server = makeServer<Record<string, unknown>, Connection>({
    onConnect: async (ctx) => {
      const credentials = credentialsOf(ctx.connectionParams, ctx.extra.request);
      const authenticated = await pipeline.authenticate(credentials);
      if (!authenticated.ok) return false;
      ctx.extra.credentials = credentials;
      return true;
    },
    onSubscribe: async (ctx, id, payload) => {
      const credentials = ctx.extra.credentials;
      if (!credentials)
        return [new GraphQLError('Not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
      const admission = await pipeline.admit({
        transport: 'graphql-ws',
        method: 'POST',
        credentials,
        query: payload.query,
        variables: payload.variables,
        operationName: payload.operationName,
        requestId: requestIdFrom(
          typeof payload.extensions?.[REQUEST_ID_HEADER] === 'string'
            ? (payload.extensions[REQUEST_ID_HEADER] as string)
            : undefined,
        ),
        // A socket has no per-message headers: the deadline, like the request id, rides in `extensions`.
        deadlineHeader: deadlineOf(payload.extensions?.[DEADLINE_HEADER]),
        connectionId: ctx.extra.id,
      });
      let result: AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult;
      let document: DocumentNode;
      if (!admission.ok) {
        const { refusal } = admission;
        // A complete answer of nulls (nothing readable) is a result; anything else an error.
        if (refusal.data === undefined) return asGraphQLErrors(refusal.errors);
        result = { data: refusal.data, errors: refusal.errors };
        // The pipeline parsed it already (it got as far as the permissions).
        document = parse(payload.query);
      } else {
        document = admission.operation.document;
        const controller = new AbortController();
        ctx.extra.operations.set(id, controller);
        result = await runAdmitted(admission.operation, pipeline, options.subscriptions, controller.signal);
        if (!(Symbol.asyncIterator in result) && result.errors && !result.data)
          return asGraphQLErrors(result.errors);
      }
      // graphql-ws picks `subscribe` or `execute` from the document, and calls it with these
      // args; both hand back the prepared result.
      return { schema: undefined as never, document, contextValue: { result } };
    },
    // Results are already formatted (plain errors with codes): send them as they are.
    onNext: (_ctx, _id, _payload, _args, result) => result as unknown as FormattedExecutionResult,
    subscribe: (args) => (args.contextValue as { result: never }).result,
    execute: (args) => (args.contextValue as { result: never }).result,
    onComplete: (ctx, id) => {
      ctx.extra.operations.get(id)?.abort();
      ctx.extra.operations.delete(id);
    },
    onClose: (ctx) => {
      for (const controller of ctx.extra.operations.values()) controller.abort();
    },
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const connection: Connection = { id: randomUUID(), request, operations: new Map() };
    socket.on('error', (error) => {
      // ws closes the socket itself (1009 for an oversized frame, 1002 for a protocol error).
      logger.info({ connection: connection.id, reason: error.message }, 'WebSocket closed on a client error');
    });
    const stalls = new StallWatch(stallMs, () => {
      logger.warn(
        { connection: connection.id, bufferedBytes: socket.bufferedAmount },
        'closing a WebSocket whose client stopped reading',
      );
      // The close frame queues behind what is unsent; nothing more is sent, and ws destroys the
      // socket if the client has not read up to it within 30 s.
      for (const controller of connection.operations.values()) controller.abort();
      socket.close(SLOW_CONSUMER_CLOSE, 'Too slow: reconnect and resume with `after`.');
    });
    let alive = true;
    socket.on('pong', () => {
      alive = true;
    });
    const ping = setInterval(() => {
      // A closing socket (a slow consumer told 1013) is left to ws's own close timeout, so a
      // client that reads again within it still learns why.
      if (socket.readyState !== socket.OPEN) return;
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, keepAliveMs);
    ping.unref();
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            const written = stalls.writing();
            socket.send(data, (error) => {
              written();
              if (error) reject(error);
              else resolve();
            });
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (message) => {
            handle(String(message)).catch((error: unknown) => {
              logger.error({ err: error, connection: connection.id }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      connection,
    );
    socket.once('close', (code, reason) => {
      clearInterval(ping);
      stalls.stop();
      void closed(code, String(reason));
    });
  });

  return async () => {
    for (const client of wss.clients) client.close(1001, 'Going away');
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
