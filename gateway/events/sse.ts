import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHandler } from 'graphql-sse/lib/use/http';
import { ErrorCode } from '../../lib/errors.js';
import type { Authenticator } from '../auth/authenticate.js';
import { subscriptionMetrics, type SubscriptionService } from './subscriptions.js';

/**
 * GraphQL over Server-Sent Events (graphql-sse, distinct connections mode) at `/graphql/stream`,
 * for clients that cannot open a WebSocket. Same credentials (headers), same checks.
 */
export function createSseHandler(options: {
  authenticate: Authenticator;
  service: SubscriptionService;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const handler = createHandler({
    onSubscribe: async (req, params) => {
      const authentication = await options.authenticate(req.raw);
      if (!authentication.ok) {
        subscriptionMetrics.refused.inc({ code: 'UNAUTHENTICATED' });
        return [
          JSON.stringify({
            errors: [{ message: authentication.message, extensions: { code: ErrorCode.UNAUTHENTICATED } }],
          }),
          {
            status: 401,
            statusText: 'Unauthorized',
            headers: {
              'content-type': 'application/json',
              'www-authenticate': authentication.wwwAuthenticate,
            },
          },
        ];
      }
      const controller = new AbortController();
      req.raw.once('close', () => controller.abort());
      const result = await options.service.start(
        authentication.identity,
        { query: params.query as string, variables: params.variables, operationName: params.operationName },
        controller.signal,
      );
      if (Symbol.asyncIterator in result) subscriptionMetrics.started.inc({ transport: 'sse' });
      return result as never;
    },
  });
  return (req, res) => handler(req, res);
}
