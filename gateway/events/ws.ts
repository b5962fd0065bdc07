import type { IncomingMessage, Server } from 'node:http';
import { GraphQLError, parse, type FormattedExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../lib/logger.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { ClientIdentity } from '../identity.js';
import { subscriptionMetrics, type SubscriptionService } from './subscriptions.js';

type Connection = {
  identity?: ClientIdentity;
  /** One abort per running operation, so a `complete` or a closed socket ends it at once. */
  operations?: Map<string, AbortController>;
};

/** Credentials from `connection_init` (`authorization` or `x-api-key`), else from the upgrade request. */
function credentialsRequest(
  params: Readonly<Record<string, unknown>> | undefined,
  upgrade: IncomingMessage,
): IncomingMessage {
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
  } as IncomingMessage;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the gateway's `/graphql` path: the socket is
 * authenticated once at `connection_init` (4403 on bad credentials), then every operation goes
 * through the subscription service's checks.
 */
export function attachWebSocket(options: {
  server: Server;
  path: string;
  authenticate: Authenticator;
  service: SubscriptionService;
  logger: Logger;
}): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true });
  options.server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== options.path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const disposable = useServer<Record<string, unknown>, Connection>(
    {
      onConnect: async (ctx) => {
        const result = await options.authenticate(
          credentialsRequest(ctx.connectionParams, ctx.extra.request),
        );
        if (!result.ok) {
          subscriptionMetrics.refused.inc({ code: 'UNAUTHENTICATED' });
          return false;
        }
        ctx.extra.identity = result.identity;
        ctx.extra.operations = new Map();
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const identity = ctx.extra.identity;
        if (!identity)
          return [new GraphQLError('Not authenticated.', { extensions: { code: 'UNAUTHENTICATED' } })];
        const controller = new AbortController();
        ctx.extra.operations?.set(id, controller);
        const result = await options.service.start(identity, payload, controller.signal);
        if (!(Symbol.asyncIterator in result) && result.errors && !result.data) {
          return result.errors.map(
            (e) =>
              new GraphQLError(e.message, {
                extensions: e.extensions ?? {},
                ...(e.path ? { path: e.path } : {}),
              }),
          );
        }
        subscriptionMetrics.started.inc({ transport: 'graphql-ws' });
        // graphql-ws calls `subscribe`/`execute` with these args; they hand back the prepared result.
        return { schema: undefined as never, document: parse(payload.query), contextValue: { result } };
      },
      // Results are already formatted (plain errors with codes): send them as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result as unknown as FormattedExecutionResult,
      subscribe: (args) => (args.contextValue as { result: never }).result,
      execute: (args) => (args.contextValue as { result: never }).result,
      onComplete: (ctx, id) => {
        ctx.extra.operations?.get(id)?.abort();
        ctx.extra.operations?.delete(id);
      },
      onClose: (ctx) => {
        for (const controller of ctx.extra.operations?.values() ?? []) controller.abort();
      },
    },
    wss,
  );
  return async () => {
    await disposable.dispose();
    wss.close();
  };
}
