import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { fetch as undiciFetch, type Agent } from 'undici';

/** The fetcher type RemoteGraphQLDataSource takes (from @apollo/utils.fetcher, not re-exported). */
type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
import { REQUEST_ID_HEADER } from '../lib/request-context.js';
import type { GatewayContext } from './context.js';

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  timeoutMs: number;
  /** Shared keep-alive pool for all subgraph calls. */
  agent: Agent;
}

/**
 * How the gateway calls one subgraph: over a keep-alive undici pool, with the request id so the
 * subgraph's and connectors' log lines join the gateway's, and a timeout per fetch.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly subgraphName: string;

  constructor(options: SubgraphDataSourceOptions) {
    const { agent, timeoutMs } = options;
    super({
      url: options.url,
      // undici's fetch is WHATWG-compatible, which is all RemoteGraphQLDataSource needs of a fetcher.
      fetcher: (input, init) =>
        // undici's fetch is WHATWG-compatible, which is all RemoteGraphQLDataSource needs of a fetcher.
        undiciFetch(input, {
          ...(init as Parameters<typeof undiciFetch>[1]),
          dispatcher: agent,
          signal: AbortSignal.timeout(timeoutMs),
        }) as unknown as ReturnType<Fetcher>,
    });
    this.subgraphName = options.name;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if ('context' in options && options.context?.request) {
      options.request.http?.headers.set(REQUEST_ID_HEADER, options.context.request.requestId);
    }
  }
}
