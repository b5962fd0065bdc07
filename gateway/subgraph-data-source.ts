import { STATUS_CODES } from 'node:http';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { injectTraceContext } from '../lib/telemetry/tracing.js';
import type { GatewayTokenSigner } from '../lib/auth/gateway-token.js';
import { ErrorCode, publicErrorCodes } from '../lib/errors.js';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from '../lib/request-context.js';
import type { PlannedKeyFields } from './auth/planned-keys.js';
import type { GatewayContext } from './context.js';
import { failedFetchResponse } from './failed-fetch.js';
import { postToSubgraph, subgraphTarget, type SubgraphAgents, type SubgraphTarget } from './subgraph-http.js';

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']>>;
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherRequestInit = NonNullable<Parameters<Fetcher>[1]>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;
type FetcherHeaders = FetcherResponse['headers'];
type SubgraphRequest = ProcessOptions['request'];

/**
 * Ties a fetch to the operation it is for: `willSendRequest` sets it, the fetcher takes it off
 * before the request leaves. Apollo's `process` serialises the body between the two, and the caller
 * token is signed over that exact body, so it is signed in the fetcher, which knows only the URL and
 * the request init.
 */
const FETCH_ID_HEADER = 'x-gateway-fetch-id';

interface PendingFetch {
  options: ProcessOptions;
  /** The client's deadline (epoch ms), when the fetch serves a client's request. */
  deadline: number | undefined;
}

/**
 * A response's headers as Node's client gave them (names in lower case), for Apollo, which only
 * reads `cache-control`: building a WHATWG `Headers` per subgraph response cost more than reading it.
 */
class ResponseHeaders implements FetcherHeaders {
  private readonly map = new Map<string, string>();

  constructor(raw: Record<string, string | string[] | undefined>) {
    for (const [name, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  append(name: string, value: string): void {
    const current = this.get(name);
    this.map.set(name.toLowerCase(), current === null ? value : `${current}, ${value}`);
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
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
}

/** A subgraph's response, read in full, as the fetch-like response Apollo expects. */
class BufferedResponse implements FetcherResponse {
  readonly bodyUsed = false;
  readonly redirected = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: FetcherHeaders,
    private readonly body: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }
  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }
  text(): Promise<string> {
    return Promise.resolve(this.body);
  }
  json(): Promise<unknown> {
    return Promise.resolve().then(() => JSON.parse(this.body) as unknown);
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = Buffer.from(this.body);
    return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  clone(): FetcherResponse {
    return new BufferedResponse(
      this.url,
      this.status,
      new ResponseHeaders(Object.fromEntries(this.headers)),
      this.body,
    );
  }
}

/** The request's deadline passed before this fetch could start (earlier fetches of its plan took it all). */
class DeadlinePassed extends Error {}

/** A 2xx whose body is not a GraphQL response (a proxy's HTML page, an empty body). */
class NotGraphQLResponse extends Error {}

export interface SubgraphDataSourceOptions {
  name: string;
  /** A function for a URL known only once the gateway listens (the `events` subgraph it serves). */
  url: string | (() => string);
  timeoutMs: number;
  /** Shared keep-alive pools for all subgraph calls. */
  agents: SubgraphAgents;
  /** Signs the caller token every subgraph requires. */
  signer: GatewayTokenSigner;
  /** Which key fields of a fetch the planner added for joins (the token's `planned` claim). */
  plannedKeys: PlannedKeyFields;
}

interface SubgraphErrorBody {
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/**
 * A fetch's headers as a plain object (lower-case names, repeated values joined with `, `), as
 * `Object.fromEntries(headers)` gives them. Apollo builds them as node-fetch 2 `Headers`, whose
 * iterator sorts and copies every header again for each one it yields: 4–5 KB per subgraph fetch,
 * 16 fetches per execution of the gateway benchmark's query (issue 17, target 2). Its own `raw()`
 * (the stored values, read-only here) gives the same object with one pass.
 */
export function headersObject(headers: Iterable<[string, string]>): Record<string, string> {
  const raw = (headers as { raw?: () => Record<string, string[]> }).raw;
  if (typeof raw !== 'function') return Object.fromEntries(headers);
  const stored = raw.call(headers);
  const out: Record<string, string> = {};
  for (const name in stored) out[name.toLowerCase()] = (stored[name] as string[]).join(', ');
  return out;
}

/**
 * How the gateway calls one subgraph: Apollo's RemoteGraphQLDataSource (its `process` builds the
 * request, serialises it, parses the answer and narrows the operation's cache policy by the
 * subgraph's Cache-Control), with this gateway's parts in its hooks:
 * - `willSendRequest`: the request id, so the subgraph's and connectors' log lines join the
 *   gateway's, and what is left of the client's deadline;
 * - `fetcher`: a plain POST on the shared keep-alive pool (`subgraph-http.ts`: Node's client, whose
 *   parser needs no compilation at run time) rather than a WHATWG fetch (a deep operation makes a
 *   dozen subgraph calls, and the fetch path's streams and AbortSignal per call were a fifth of the
 *   gateway's CPU under load, bench/README.md), signing the caller token over the exact body it
 *   sends, with a timeout per fetch;
 * - `parseBody`, `errorFromResponse`: a body that is not GraphQL, and a non-2xx's GraphQL errors.
 * Every failure comes back as a GraphQLError naming the subgraph with a public code, never a URL or
 * a body, at each field the fetch lost (`process`).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly subgraphName: string;
  private readonly signer: GatewayTokenSigner;
  private readonly plannedKeys: PlannedKeyFields;
  private readonly agents: SubgraphAgents;
  private readonly timeoutMs: number;
  private readonly resolveUrl: (() => string) | undefined;
  private lastTarget: SubgraphTarget | undefined;
  private readonly pending = new Map<string, PendingFetch>();
  private fetches = 0;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: typeof options.url === 'string' ? options.url : '' });
    this.subgraphName = options.name;
    this.signer = options.signer;
    this.plannedKeys = options.plannedKeys;
    this.agents = options.agents;
    this.timeoutMs = options.timeoutMs;
    this.resolveUrl = typeof options.url === 'function' ? options.url : undefined;
    this.fetcher = (url, init) => this.fetchOnPool(url, init);
    // `sendRequest` is private in Apollo's typings but an instance method `process` calls.
    Object.assign(this, { sendRequest: (request: SubgraphRequest) => this.sendBuffered(request) });
  }

  /** The URL split as the client takes it, parsed once (it changes only with the supergraph). */
  private target(url: string): SubgraphTarget {
    if (this.lastTarget?.url !== url) this.lastTarget = subgraphTarget(url);
    return this.lastTarget;
  }

  /** Every fetch carries the request id and its deadline; the caller token is signed in the fetcher. */
  override willSendRequest(options: ProcessOptions): void {
    const http = options.request.http;
    if (!http) return;
    if (this.resolveUrl) (http as { url: string }).url = this.resolveUrl();
    const request = (options.context as Partial<GatewayContext>).request;
    if (request) {
      const left = request.deadline - Date.now();
      if (left <= 0) throw new DeadlinePassed();
      http.headers.set(REQUEST_ID_HEADER, request.requestId);
      // What is left of the client's deadline, less a margin for the subgraph to answer after its
      // platform calls give up (tens of ms on a busy machine) and for the answer's way back, so the
      // client gets the platform's own error at each field by its deadline.
      http.headers.set(DEADLINE_HEADER, String(Math.max(1, left - Math.min(250, Math.floor(left / 4)))));
    }
    // The trace continues in the subgraph: Apollo's `gateway.fetch` span is the active one here.
    injectTraceContext(http.headers);
    const id = String((this.fetches += 1));
    this.pending.set(id, { options, deadline: request?.deadline });
    http.headers.set(FETCH_ID_HEADER, id);
  }

  /**
   * Apollo's `sendRequest` without the node-fetch `Request` it builds for every fetch only to hand
   * to `parseBody` and `didEncounterError`, which this class does not read (parsing its URL and
   * headers was ~2% of the gateway's CPU on distinct requests). Same body, same errors.
   */
  private async sendBuffered(request: SubgraphRequest): Promise<object> {
    const { http, ...withoutHttp } = request;
    if (!http) throw new Error("Internal error: Only 'http' requests are supported.");
    const init = {
      method: http.method,
      headers: headersObject(http.headers),
      body: JSON.stringify(withoutHttp),
    };
    const response = await this.fetcher(http.url, init);
    if (!response.ok) throw await this.errorFromResponse(response);
    const body = await this.parseBody(response);
    return { ...body, http: response };
  }

  /**
   * A fetch that fails as a whole (the subgraph down, too slow, or not answering GraphQL) is
   * answered as if the subgraph had failed each field it was asked for: the gateway keeps every
   * other subgraph's data and puts the error at each lost field's path.
   */
  override async process(options: ProcessOptions): Promise<ProcessResult> {
    try {
      return await super.process(options);
    } catch (caught) {
      const error = this.asSubgraphError(caught);
      const document = 'document' in options ? options.document : undefined;
      const answer = failedFetchResponse(options.request, document, error);
      if (!answer) throw error;
      return answer;
    } finally {
      const id = options.request.http?.headers.get(FETCH_ID_HEADER);
      if (id) this.pending.delete(id);
    }
  }

  /** Apollo's fetcher: the request as `process` built it, with its caller token. */
  private async fetchOnPool(url: string, init: FetcherRequestInit = {}): Promise<FetcherResponse> {
    const headers: Record<string, string> = { ...init.headers };
    const id = headers[FETCH_ID_HEADER];
    delete headers[FETCH_ID_HEADER];
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending)
      throw new Error(`a fetch to the ${this.subgraphName} subgraph that willSendRequest did not see`);
    const body = typeof init.body === 'string' ? init.body : (init.body?.toString('utf8') ?? '');
    headers['authorization'] = `Bearer ${await this.tokenFor(pending.options, body)}`;
    // SUBGRAPH_TIMEOUT_MS, or what is left of the client's deadline when that comes sooner.
    const left = pending.deadline === undefined ? this.timeoutMs : pending.deadline - Date.now();
    if (left <= 0) throw new DeadlinePassed();
    const answer = await postToSubgraph(
      this.agents,
      this.target(url),
      headers,
      body,
      Math.min(left, this.timeoutMs),
    );
    return new BufferedResponse(url, answer.status, new ResponseHeaders(answer.headers), answer.body);
  }

  /**
   * The caller token of one fetch: the client's id and scopes (the gateway's own, with none, for
   * health checks and schema loading), the key fields the planner added for joins, and the hash
   * of the body, so the subgraph enforces the same permissions on its own and the token is good
   * for this one request only.
   */
  private async tokenFor(options: ProcessOptions, body: string) {
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

  /** A 2xx body: a JSON object, or the fetch failed (whatever the Content-Type said). */
  override async parseBody(response: FetcherResponse): Promise<object> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new NotGraphQLResponse();
    return body;
  }

  /**
   * A subgraph answering non-2xx still sends GraphQL errors (Apollo Server answers 400 to a
   * variable it cannot coerce); keep the first coded one instead of a bare "400: Bad Request".
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const status = response.status;
    let body: SubgraphErrorBody | undefined;
    try {
      body = JSON.parse(await response.text()) as SubgraphErrorBody;
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
    const extensions = { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, subgraph: this.subgraphName };
    if (error instanceof DeadlinePassed) {
      return new GraphQLError(
        `The ${this.subgraphName} subgraph was not asked: the request's deadline had passed.`,
        { extensions },
      );
    }
    if (error instanceof NotGraphQLResponse) {
      return new GraphQLError(
        `The ${this.subgraphName} subgraph answered with a body that is not a GraphQL response.`,
        { extensions },
      );
    }
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return new GraphQLError(
      timedOut
        ? `The ${this.subgraphName} subgraph did not answer in time.`
        : `The ${this.subgraphName} subgraph could not be reached.`,
      { extensions, ...(error instanceof Error ? { originalError: error } : {}) },
    );
  }
}
