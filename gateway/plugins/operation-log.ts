import type { ApolloServerPlugin } from '@apollo/server';
import { REQUEST_ID_HEADER } from '../../lib/request-context.js';
import type { GatewayContext } from '../context.js';

/** One log line per operation (name, duration, error codes) and the request id echoed to the client. */
export function operationLogPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName, errors }) {
          response.http.headers.set(REQUEST_ID_HEADER, contextValue.request.requestId);
          const codes = errors?.map((e) => e.extensions?.['code']).filter(Boolean);
          contextValue.request.logger.info(
            {
              operationName: operationName ?? null,
              ms: Math.round((performance.now() - started) * 10) / 10,
              ...(codes && codes.length > 0 ? { errorCodes: [...new Set(codes)] } : {}),
            },
            'operation',
          );
        },
      };
    },
  };
}
