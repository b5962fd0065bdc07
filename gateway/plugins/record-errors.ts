import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.js';

/**
 * Leaves the errors a response carries on its context, for the pipeline's log line: the transport
 * that built the context reads them back, so no response body is parsed again to find them. Last
 * in the plugin list, so it sees what every other plugin added.
 */
export function recordErrorsPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind === 'single') contextValue.errors = response.body.singleResult.errors;
        },
      };
    },
  };
}
