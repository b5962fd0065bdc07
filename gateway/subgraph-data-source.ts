import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { errors as undiciErrors, type Agent } from 'undici';
import type { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import { ErrorCode, publicErrorCodes } from '../lib/errors.js';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from '../lib/request-context.js';
import type { PlannedKeyFields } from './auth/planned-keys.js';
import type { GatewayContext } from './context.js';
import { failedFetchResponse } from './failed-fetch.js';

type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']>>;
type HttpHeaders = NonNullable<NonNullable<GraphQLDataSourceProcessOptions['request']['http']>['headers']>;

/**
 * The headers of one subgraph request, as `willSendRequest` sees them (the Fetch `Headers` surface
 * Apollo's data sources use), kept in a plain map: cheaper than a WHATWG Headers per fetch.
 */
class RequestHeaders implements HttpHeaders {
  private readonly map = new Map<string, string>();
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.map.get(key);
    this.map.set(key, current === undefined ? value : `${current}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  toObject(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

/** A subgraph's response headers (undici's record), read through the same surface. */
function responseHeaders(raw: Record<string, string | string[] | undefined>): HttpHeaders {
  const headers = new RequestHeaders();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** `max-age=60, public` -> the hint Apollo's cache policy takes (as RemoteGraphQLDataSource reads it). */
function cacheHint(header: string | null): { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } {
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
  if (!header) return hint;
  for (const part of header.split(',')) {
    const [key = '', value] = part
      .trim()
      .split('=', 2)
      .map((s) => s.trim());
    if (key === 'max-age' && value && /^\d+$/.test(value.replace(/^"|"$/g, '')))
      hint.maxAge = Number(value.replace(/^"|"$/g, ''));
    if (key === 'private') hint.scope = 'PRIVATE';
    if (key === 'public') hint.scope = 'PUBLIC';
  }
  return hint;
}

/** The request's deadline passed before this fetch could start (earlier fetches of its plan took it all). */
class DeadlinePassed extends Error {}

export interface SubgraphDataSourceOptions {
  name: string;
  /** A function for a URL known only once the gateway listens (the `events` subgraph it serves). */
  url: string | (() => string);
  timeoutMs: number;
  /** Shared keep-alive pool for all subgraph calls. */
  agent: Agent;
  /** Signs the caller token every subgraph requires. */
  signer: GatewayTokenSigner;
  /** Which key fields of a fetch the planner added for joins (the token's `planned` claim). */
  plannedKeys: PlannedKeyFields;
}

interface SubgraphErrorBody {
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/**
 * How the gateway calls one subgraph: over a keep-alive undici pool, with the request id so the
 * subgraph's and connectors' log lines join the gateway's, and a timeout per fetch. Every failure
 * comes back as a GraphQLError naming the subgraph with a public code, never a URL or a body.
 *
 * The fetch itself is undici's `request` on the shared pool rather than RemoteGraphQLDataSource's
 * fetcher: a deep operation makes a dozen subgraph calls, and the WHATWG fetch path (streams, an
 * AbortSignal and Headers per call) was a fifth of the gateway's CPU under load (bench/README.md).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly subgraphName: string;
  private readonly signer: GatewayTokenSigner;
  private readonly plannedKeys: PlannedKeyFields;
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: typeof options.url === 'string' ? options.url : '' });
    this.subgraphName = options.name;
    this.signer = options.signer;
    this.plannedKeys = options.plannedKeys;
    this.agent = options.agent;
    this.timeoutMs = options.timeoutMs;
    if (typeof options.url === 'function') this.resolveUrl = options.url;
  }

  private readonly resolveUrl: (() => string) | undefined;
  private lastTarget: { url: string; origin: string; path: string } | undefined;

  /** The URL split as undici takes it, parsed once (it changes only with the supergraph). */
  private target(url: string): { origin: string; path: string } {
    if (this.lastTarget?.url !== url) {
      const parsed = new URL(url);
      this.lastTarget = { url, origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    }
    return this.lastTarget;
  }

  /** Every fetch carries the request id (the caller token is signed in `send`, over the body). */
  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const http = options.request.http;
    if (http && this.resolveUrl) (http as { url: string }).url = this.resolveUrl();
    const context = 'context' in options ? options.context : undefined;
    if (context?.request && http) {
      http.headers.set(REQUEST_ID_HEADER, context.request.requestId);
      // What is left of the client's deadline, less a margin for the subgraph to answer after its
      // platform calls give up (tens of ms on a busy machine) and for the answer's way back, so the
      // client gets the platform's own error at each field by its deadline.
      const left = context.request.deadline - Date.now();
      http.headers.set(DEADLINE_HEADER, String(Math.max(1, left - Math.min(250, Math.floor(left / 4)))));
    }
  }

  /**
   * The caller token of one fetch: the client's id and scopes (the gateway's own, with none, for
   * health checks and schema loading), the key fields the planner added for joins, and the hash
   * of the body, so the subgraph enforces the same permissions on its own and the token is good
   * for this one request only.
   */
  private async tokenFor(options: GraphQLDataSourceProcessOptions<GatewayContext>, body: string) {
    if (!('incomingRequestContext' in options)) {
      return this.signer.tokenFor(this.subgraphName, { clientId: 'gateway', scopes: [] }, { body });
    }
    const incoming = options.incomingRequestContext;
    const client = incoming.context.client;
    const caller = client
      ? { clientId: client.id, scopes: client.scopes }
      : { clientId: 'gateway', scopes: [] as string[] };
    const planned = this.plannedKeys.plannedIn(
      options.request.query ?? '',
      incoming.document && incoming.operation
        ? { document: incoming.document, operation: incoming.operation }
        : undefined,
    );
    return this.signer.tokenFor(this.subgraphName, caller, { planned, body });
  }

  /**
   * A fetch that fails as a whole (the subgraph down, too slow, or not answering GraphQL) is
   * answered as if the subgraph had failed each field it was asked for: the gateway keeps every
   * other subgraph's data and puts the error at each lost field's path.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<ProcessResult> {
    try {
      return await this.send(options);
    } catch (caught) {
      const error = this.asSubgraphError(caught);
      const document = 'document' in options ? options.document : undefined;
      const answer = failedFetchResponse(options.request, document, error);
      if (!answer) throw error;
      return answer;
    }
  }

  /** What RemoteGraphQLDataSource's `process` does (without persisted queries, which this gateway never uses). */
  private async send(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<ProcessResult> {
    const { request } = options;
    const headers = new RequestHeaders();
    for (const [name, value] of request.http?.headers ?? []) headers.append(name, value);
    headers.set('content-type', 'application/json');
    request.http = { method: 'POST', url: this.url, headers };
    await this.willSendRequest(options);
    if (!request.query) throw new Error('Missing query');
    const { http, query, ...rest } = request;
    const deadline = 'context' in options ? options.context.request?.deadline : undefined;
    const left = deadline === undefined ? this.timeoutMs : deadline - Date.now();
    if (left <= 0) throw new DeadlinePassed();
    const { origin, path } = this.target(http.url);
    // undici's header and body timers (cheap, no AbortSignal per call) keep SUBGRAPH_TIMEOUT_MS;
    // they tick on a coarse clock that may fire up to half a second early, so a deadline that
    // comes sooner gets a precise timer of its own.
    const deadlineTimer = left < this.timeoutMs ? new AbortController() : undefined;
    const timer = deadlineTimer ? setTimeout(() => deadlineTimer.abort(), left) : undefined;
    const body = JSON.stringify({ query, ...rest });
    headers.set('authorization', `Bearer ${await this.tokenFor(options, body)}`);
    let text: string;
    let response: Awaited<ReturnType<Agent['request']>>;
    try {
      response = await this.agent.request({
        origin,
        path,
        method: 'POST',
        headers: headers.toObject(),
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(deadlineTimer ? { signal: deadlineTimer.signal } : {}),
      });
      text = await response.body.text();
    } finally {
      clearTimeout(timer);
    }
    if (response.statusCode < 200 || response.statusCode > 299)
      throw this.errorFromResponseBody(response.statusCode, text);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (!answer || typeof answer !== 'object' || Array.isArray(answer))
      throw new Error(`the ${this.subgraphName} subgraph answered a body that is not a GraphQL response`);
    const result: ProcessResult = {
      ...(answer as ProcessResult),
      http: { headers: responseHeaders(response.headers), status: response.statusCode },
    };
    // The subgraph's Cache-Control narrows the operation's cache policy (the response cache reads it).
    if ('incomingRequestContext' in options && this.honorSubgraphCacheControlHeader) {
      const policy = options.incomingRequestContext.overallCachePolicy as
        { restrict?: (hint: ReturnType<typeof cacheHint>) => void } | undefined;
      policy?.restrict?.(cacheHint(result.http?.headers.get('cache-control') ?? null));
    }
    return result;
  }

  /**
   * A subgraph answering non-2xx still sends GraphQL errors (Apollo Server answers 400 to a
   * variable it cannot coerce); keep the first coded one instead of a bare "400: Bad Request".
   */
  private errorFromResponseBody(status: number, text: string): GraphQLError {
    let body: SubgraphErrorBody | undefined;
    try {
      body = JSON.parse(text) as SubgraphErrorBody;
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
    return new GraphQLError(`The ${this.subgraphName} subgraph answered HTTP ${status}.`, {
      extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, subgraph: this.subgraphName, status },
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
    if (error instanceof DeadlinePassed) {
      return new GraphQLError(
        `The ${this.subgraphName} subgraph was not asked: the request's deadline had passed.`,
        { extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, subgraph: this.subgraphName } },
      );
    }
    const timedOut =
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
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
