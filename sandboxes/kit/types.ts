import type { IncomingHttpHeaders } from 'node:http';
import type { Platform } from '../../lib/errors.js';

export interface SandboxRequest {
  method: string;
  /** Path without the query string, as received (percent-encoding intact). */
  path: string;
  /** Named parts of the route pattern, decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The body parsed as JSON when the request said it was JSON; undefined otherwise. */
  json: unknown;
  /** The route pattern that matched: `GET /crm/v3/objects/contacts/{id}`. */
  endpoint: string;
}

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON with the platform's content type. */
  json?: unknown;
  /** Sent as is, for platforms that answer some errors with text. */
  text?: string;
  contentType?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path pattern with `{name}` parts: `/crm/v3/objects/contacts/{id}`. */
  path: string;
  handle(request: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
  /**
   * Requests to this route change the platform's state: the sandbox records each one it receives,
   * whatever it answers (`GET /__sandbox/requests`), so tests can assert exactly what was sent.
   */
  write?: boolean;
}

/** The outcome of a rate-limit check: a rejection to send, or headers to add and a slot to free. */
export interface Admission {
  reject?: SandboxResponse;
  headers?: Record<string, string>;
  release?: () => void;
}

/** What makes a sandbox one platform's and not another's. */
export interface PlatformSandbox {
  readonly platform: Platform;
  readonly routes: readonly Route[];
  /** Returns the platform's own 401 when credentials are missing or wrong. */
  authenticate(request: SandboxRequest): SandboxResponse | undefined;
  /** Applies the platform's rate limits (only called when limits are on). */
  admit(request: SandboxRequest): Admission;
  /** The platform's error body for a status (unknown route, injected error, bad JSON). */
  errorResponse(status: number, message: string): SandboxResponse;
  /**
   * The platform's own 429 (or equivalent), for injected rate limiting; `policy` picks which limit
   * it names (the short window unless `daily`).
   */
  rateLimitedResponse(retryAfterSeconds: number, policy?: 'window' | 'daily'): SandboxResponse;
  /** The platform's own `/__sandbox/*` endpoints (Shopify's app settings), added to the kit's. */
  readonly adminRoutes?: readonly Route[];
  /**
   * The largest request body the platform takes, when it takes more than the kit's 1 MiB (Meta's
   * custom audience uploads: 10,000 rows of several hashes each). @default 1 MiB
   */
  readonly maxBodyBytes?: number;
}
