import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { fetch as undiciFetch, type Agent } from 'undici';
import type { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import { ErrorCode, publicErrorCodes } from '../lib/errors.js';
import { REQUEST_ID_HEADER } from '../lib/request-context.js';
import type { GatewayContext } from './context.js';

/** The fetcher type RemoteGraphQLDataSource takes (from @apollo/utils.fetcher, not re-exported). */
type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

export interface SubgraphDataSourceOptions {
  name: string;
  /** A function for a URL known only once the gateway listens (the `events` subgraph it serves). */
  url: string | (() => string);
  timeoutMs: number;
  /** Shared keep-alive pool for all subgraph calls. */
  agent: Agent;
  /** Signs the caller token every subgraph requires. */
  signer: GatewayTokenSigner;
}

interface SubgraphErrorBody {
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/**
 * How the gateway calls one subgraph: over a keep-alive undici pool, with the request id so the
 * subgraph's and connectors' log lines join the gateway's, and a timeout per fetch. Every failure
 * comes back as a GraphQLError naming the subgraph with a public code, never a URL or a body.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly subgraphName: string;
  private readonly signer: GatewayTokenSigner;

  constructor(options: SubgraphDataSourceOptions) {
    const { agent, timeoutMs } = options;
    super({
      url: typeof options.url === 'string' ? options.url : '',
      fetcher: (input, init) =>
        // undici's fetch is WHATWG-compatible, which is all RemoteGraphQLDataSource needs of a fetcher.
        undiciFetch(input, {
          ...(init as Parameters<typeof undiciFetch>[1]),
          dispatcher: agent,
          signal: AbortSignal.timeout(timeoutMs),
        }) as unknown as ReturnType<Fetcher>,
    });
    this.subgraphName = options.name;
    this.signer = options.signer;
    if (typeof options.url === 'function') this.resolveUrl = options.url;
  }

  private readonly resolveUrl: (() => string) | undefined;

  /**
   * Every fetch carries the request id and a caller token for this subgraph: the client's id and
   * scopes, signed by the gateway, so the subgraph enforces the same permissions on its own.
   */
  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const http = options.request.http;
    if (http && this.resolveUrl) (http as { url: string }).url = this.resolveUrl();
    const headers = http?.headers;
    if (!headers) return;
    const context = 'context' in options ? options.context : undefined;
    if (context?.request) headers.set(REQUEST_ID_HEADER, context.request.requestId);
    // Schema loading and health probes run outside a client request: they act as the gateway itself.
    const caller = context?.client
      ? { clientId: context.client.id, scopes: context.client.scopes }
      : { clientId: 'gateway', scopes: [] };
    headers.set('authorization', `Bearer ${await this.signer.tokenFor(this.subgraphName, caller)}`);
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
  ): ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']> {
    try {
      return await super.process(options);
    } catch (error) {
      throw this.asSubgraphError(error);
    }
  }

  /**
   * A subgraph answering non-2xx still sends GraphQL errors (Apollo Server answers 400 to a
   * variable it cannot coerce); keep the first coded one instead of a bare "400: Bad Request".
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    let body: SubgraphErrorBody | undefined;
    try {
      body = (await response.json()) as SubgraphErrorBody;
    } catch {
      body = undefined;
    }
    const first = body?.errors?.[0];
    const code = first?.extensions?.['code'];
    if (
      first &&
      typeof first.message === 'string' &&
      typeof code === 'string' &&
      publicErrorCodes.has(code)
    ) {
      return new GraphQLError(first.message, {
        extensions: { ...first.extensions, subgraph: this.subgraphName },
      });
    }
    return new GraphQLError(`The ${this.subgraphName} subgraph answered HTTP ${response.status}.`, {
      extensions: {
        code: ErrorCode.DOWNSTREAM_SERVICE_ERROR,
        subgraph: this.subgraphName,
        status: response.status,
      },
    });
  }

  private asSubgraphError(error: unknown): GraphQLError {
    if (
      error instanceof GraphQLError &&
      typeof error.extensions['code'] === 'string' &&
      error.extensions['subgraph']
    ) {
      return error;
    }
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return new GraphQLError(
      timedOut
        ? `The ${this.subgraphName} subgraph did not answer in time.`
        : `The ${this.subgraphName} subgraph could not be reached.`,
      {
        extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, subgraph: this.subgraphName },
        ...(error instanceof Error ? { originalError: error } : {}),
      },
    );
  }
}
