import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { GatewayContext } from '../context.js';

/**
 * Leaves the errors a response carries on its context, for the pipeline's log line: the transport
 * that built the context reads them back, so no response body is parsed again to find them. Last
 * in the plugin list, so it sees what every other plugin added.
 */
export function recordErrorsPlugin(): ApolloServerPlugin<GatewayContext> {
  // One listener for every request (it reads the request's context from its argument), not a new
  // object and closure per request (issue 17, target 2).
  const listener: GraphQLRequestListener<GatewayContext> = {
    async willSendResponse({ response, contextValue }) {
      if (response.body.kind === 'single') contextValue.errors = response.body.singleResult.errors;
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
