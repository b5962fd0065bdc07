import { randomUUID } from 'node:crypto';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { recordLimits, recordOutcome, recordThrottled, type Outcome } from '../health/recorder.js';
import { withClientSpan } from '../telemetry/tracing.js';
import { UpstreamError, type Platform, type UpstreamErrorDetails } from '../errors.js';
import type { Logger } from '../logger.js';
import { createRequestContext, type RequestContext } from '../request-context.js';
import { recordApiVersion, type ApiVersionObservation } from './api-version.js';
import { parseUpstream } from './parse.js';
import { upstreamMetrics } from './metrics.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | readonly string[] | undefined;
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One call to a platform, described by the connector. */
export interface UpstreamCall {
  method: HttpMethod;
  /** The endpoint as a pattern, for logs and counters: `GET /crm/v3/objects/contacts/{id}`. */
  endpoint: string;
  /** Path below the base URL, with ids filled in and escaped by the caller. */
  path: string;
  /** `path` is below the base URL's origin, not its path (Shopify's unversioned `/admin/oauth/…`). */
  fromOrigin?: boolean;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Sent as `application/x-www-form-urlencoded` instead of `body` (Twilio's API takes forms); a
   * list repeats its parameter.
   */
  form?: Record<string, string | readonly string[]>;
  /** Statuses that are answers rather than failures, such as 404 for a look-up that finds nothing. */
  accept?: readonly number[];
  /**
   * Safe to repeat after a failure: GETs, and POSTs that only read (HubSpot batch read and search).
   * Defaults to true for GET only; writes are never retried unless the connector says so.
   */
  idempotent?: boolean;
  /**
   * A write that may be repeated after a 429, and only then: platforms that document a 429 as
   * refused before any processing (Twilio's 20429) let a send be retried without sending twice.
   * A timeout or a 5xx still fails at once, since the platform may have acted on it.
   */
  retryAfter429?: boolean;
  /**
   * `background` calls (bulk writes from actions and syncs) wait behind every `interactive` one
   * (a user's query) and leave part of the platform's limit free for them, so a sync never makes
   * a dashboard wait for or hit the limit. @default 'interactive'
   */
  priority?: 'interactive' | 'background';
}

export interface UpstreamResponse {
  status: number;
  headers: ResponseHeaders;
  body: unknown;
}

/** How a platform signals a failure, read from its error body and headers. */
export interface FailureDescription {
  message: string;
  upstreamCode?: string;
  /** The platform said we are over its limit (some say so with a 400 and an error code). */
  rateLimited?: boolean;
  /** The platform rejected our credentials (Meta says so with a 400 and error code 190). */
  unauthorized?: boolean;
  retryAfterSeconds?: number;
  /** When the limit that refused the call resets (ISO instant), for a daily limit. */
  resetsAt?: string;
}

/** What differs between platforms at the HTTP level; everything else is shared. */
export interface PlatformProtocol {
  readonly platform: Platform;
  /** Headers that authenticate every call (the credential never goes into a URL we log). */
  authHeaders(): Record<string, string>;
  describeFailure(status: number, body: unknown, headers: ResponseHeaders): FailureDescription;
  /**
   * What a response says about the API version served and its deprecation; recorded per platform
   * (lib/upstream/api-version.ts) after every answer, failures included.
   */
  apiVersion?(headers: ResponseHeaders): ApiVersionObservation;
}

/**
 * Flow control between a connector and its platform (client-side throttling). `acquire` resolves
 * when the call may start, or throws UPSTREAM_RATE_LIMITED when it could not start before the
 * deadline; `release` feeds back what the response said about the remaining budget.
 */
export interface UpstreamThrottle {
  acquire(call: UpstreamCall, deadline: number): Promise<void>;
  release(call: UpstreamCall, outcome: ThrottleOutcome | undefined): void;
  /** Calls the platform's limit leaves now, when the throttle knows (for the health model). */
  budget?(now: number): { free: number; of: number } | undefined;
}

/** What a throttle learns from an answer: its status, headers and parsed body (HubSpot names the limit in it). */
export interface ThrottleOutcome {
  status: number;
  headers: ResponseHeaders;
  body?: unknown;
}

/** Decides whether a call may go out at all (circuit breaker). */
export interface UpstreamGuard {
  /** Throws UPSTREAM_UNAVAILABLE when calls should not be attempted now. */
  check(): void;
  recordSuccess(): void;
  recordFailure(error: UpstreamError): void;
  /** Stops any timer the guard holds; the client calls it when it closes. */
  close?(): void;
  /** Whether calls are refused now (for the health model). */
  state?(): 'open' | 'closed';
}

/**
 * The request's deadline (the client's `x-request-deadline-ms`, or the default budget) ran out
 * before the platform answered. Not the platform's fault, so it neither retries nor counts
 * towards the breaker; `upstreamCode: REQUEST_DEADLINE` tells it from a platform timeout.
 */
export function deadlineError(platform: Platform, endpoint: string, message: string): UpstreamError {
  return new UpstreamError(`${platform}: ${message}`, {
    platform,
    endpoint,
    code: 'UPSTREAM_TIMEOUT',
    upstreamCode: 'REQUEST_DEADLINE',
    retryable: false,
  });
}

export interface UpstreamClientOptions {
  protocol: PlatformProtocol;
  baseUrl: string;
  /** Upper bound of one attempt; also capped by the request's deadline. */
  timeoutMs: number;
  /** Retries of idempotent calls after a 429, 5xx, timeout or connection failure. */
  maxRetries: number;
  /** Keep-alive connections per platform origin. @default 32 */
  connections?: number;
  throttle?: UpstreamThrottle;
  guard?: UpstreamGuard;
  /** Base of the exponential backoff, before jitter. @default 100 */
  backoffBaseMs?: number;
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Retry-After` as seconds (it may be a number of seconds or an HTTP date). */
export function retryAfterSeconds(headers: ResponseHeaders): number | undefined {
  const value = headerValue(headers, 'retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}

function formBody(form: Record<string, string | readonly string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (typeof value === 'string') params.append(key, value);
    else for (const item of value) params.append(key, item);
  }
  return params.toString();
}

function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The HTTP client every connector uses: keep-alive pool per platform, a timeout on every attempt,
 * bounded retries with backoff and jitter for idempotent reads (honouring Retry-After), platform
 * error bodies turned into UpstreamErrors, and a counter for every call.
 */
export class UpstreamClient {
  readonly platform: Platform;
  private readonly dispatcher: Dispatcher;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamClientOptions) {
    this.platform = options.protocol.platform;
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.dispatcher = new Agent({
      connections: options.connections ?? 32,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
    });
  }

  /** Performs the call and parses its body with `schema`; see `send` for statuses and retries. */
  async json<S extends z.ZodType>(ctx: RequestContext, call: UpstreamCall, schema: S): Promise<z.output<S>> {
    const response = await this.send(ctx, call);
    return parseUpstream(this.platform, call.endpoint, schema, response.body);
  }

  /**
   * Performs the call. Resolves with 2xx answers and the statuses in `call.accept`; any other
   * outcome throws an UpstreamError once retries are spent or the deadline would be passed.
   */
  send(ctx: RequestContext, call: UpstreamCall): Promise<UpstreamResponse> {
    const attributes = { 'upstream.platform': this.platform, 'upstream.endpoint': call.endpoint };
    return withClientSpan(`upstream ${this.platform} ${call.endpoint}`, attributes, async (span) => {
      const response = await this.sendWithRetries(ctx, call);
      span.setAttribute('http.response.status_code', response.status);
      return response;
    });
  }

  private async sendWithRetries(ctx: RequestContext, call: UpstreamCall): Promise<UpstreamResponse> {
    const idempotent = call.idempotent ?? call.method === 'GET';
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(ctx, call, attempt);
      } catch (caught) {
        if (!(caught instanceof UpstreamError)) throw caught;
        const waitMs = this.retryDelay(caught, attempt);
        const canRetry =
          (idempotent || (call.retryAfter429 === true && caught.details.status === 429)) &&
          caught.retryable &&
          attempt < this.options.maxRetries &&
          Date.now() + waitMs < ctx.deadline - 50;
        if (!canRetry) throw caught;
        upstreamMetrics.retries.inc({ platform: this.platform, endpoint: call.endpoint });
        ctx.logger.debug(
          { platform: this.platform, endpoint: call.endpoint, attempt, waitMs, code: caught.details.code },
          'retrying upstream call',
        );
        if (caught.details.status === 429) recordThrottled(this.healthConnection, waitMs);
        await sleep(waitMs);
      }
    }
  }

  private retryDelay(error: UpstreamError, attempt: number): number {
    if (error.details.retryAfterSeconds !== undefined)
      return Math.ceil(error.details.retryAfterSeconds * 1000);
    const base = this.options.backoffBaseMs ?? 100;
    const cap = Math.min(5_000, base * 2 ** attempt);
    return Math.round(cap / 2 + Math.random() * (cap / 2));
  }

  private failure(
    call: UpstreamCall,
    details: Omit<UpstreamErrorDetails, 'platform' | 'endpoint'>,
    message: string,
  ) {
    return new UpstreamError(`${this.platform}: ${message}`, {
      ...details,
      platform: this.platform,
      endpoint: call.endpoint,
    });
  }

  /**
   * One call on behalf of the circuit breaker, to learn whether the platform is back: past the
   * breaker (which is open), without retries, within the upstream timeout, and not recorded in the
   * breaker (the breaker reads the outcome itself). Resolves on a 2xx; throws otherwise.
   */
  async probe(call: UpstreamCall, logger: Logger): Promise<void> {
    const ctx = createRequestContext(logger, `breaker-probe-${randomUUID()}`, this.options.timeoutMs + 1);
    await this.attempt(ctx, call, 0, { guarded: false });
  }

  private async attempt(
    ctx: RequestContext,
    call: UpstreamCall,
    attempt: number,
    { guarded }: { guarded: boolean } = { guarded: true },
  ): Promise<UpstreamResponse> {
    const labels = { platform: this.platform, endpoint: call.endpoint };
    const guard = guarded ? this.options.guard : undefined;
    guard?.check();
    const queuedAt = Date.now();
    if (this.options.throttle) await this.options.throttle.acquire(call, ctx.deadline);
    const startedAt = Date.now();
    upstreamMetrics.queuedSeconds.observe((startedAt - queuedAt) / 1000, labels);
    // Waiting for the platform's budget is throttled time in the health history (the review's figure).
    if (this.options.throttle) recordThrottled(this.healthConnection, startedAt - queuedAt);
    const remaining = ctx.deadline - startedAt;
    if (remaining <= 0) {
      this.options.throttle?.release(call, undefined);
      throw deadlineError(this.platform, call.endpoint, `no time left before the request's deadline`);
    }
    // The request's deadline, when it comes first, cuts the call short; that proves nothing about
    // the platform, so it is reported as the deadline and kept out of the breaker.
    const cutByDeadline = remaining < this.options.timeoutMs;
    const timeoutMs = Math.min(this.options.timeoutMs, remaining);
    let outcome: ThrottleOutcome | undefined;
    try {
      const response = await this.exchange(call, timeoutMs);
      outcome = response;
      const version = this.options.protocol.apiVersion?.(response.headers);
      if (version) recordApiVersion(this.platform, version, ctx.logger);
      const elapsed = Date.now() - startedAt;
      upstreamMetrics.calls.inc({ ...labels, status: response.status });
      upstreamMetrics.latencySeconds.observe(elapsed / 1000, labels);
      ctx.logger.debug({ ...labels, status: response.status, ms: elapsed, attempt }, 'upstream call');
      if ((response.status >= 200 && response.status < 300) || call.accept?.includes(response.status)) {
        guard?.recordSuccess();
        this.recordHealth({ ok: true, latencyMs: elapsed });
        return response;
      }
      const error = this.errorFor(call, response);
      this.recordHealth({
        ok: false,
        latencyMs: elapsed,
        errorClass: response.status === 429 ? 'rate-limited' : response.status >= 500 ? 'server' : 'client',
        code: error.details.code,
        message: `${call.endpoint} answered ${response.status}`,
      });
      // Only a platform that is down opens the breaker: a 429 or a 4xx proves it is up.
      if (response.status >= 500) guard?.recordFailure(error);
      else guard?.recordSuccess();
      ctx.logger.warn(
        {
          ...labels,
          status: response.status,
          code: error.details.code,
          upstreamCode: error.details.upstreamCode,
          attempt,
        },
        'upstream call failed',
      );
      throw error;
    } catch (caught) {
      if (caught instanceof UpstreamError) throw caught;
      const error = this.transportError(call, caught, timeoutMs, cutByDeadline);
      upstreamMetrics.calls.inc({ ...labels, status: error.details.upstreamCode ?? error.details.code });
      if (error.details.upstreamCode !== 'REQUEST_DEADLINE') {
        guard?.recordFailure(error);
        this.recordHealth({
          ok: false,
          errorClass: error.details.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'network',
          code: error.details.code,
          message: `${call.endpoint}: ${error.details.upstreamCode ?? error.details.code}`,
        });
      }
      ctx.logger.warn(
        { ...labels, code: error.details.code, upstreamCode: error.details.upstreamCode, attempt },
        'upstream call failed',
      );
      throw error;
    } finally {
      this.options.throttle?.release(call, outcome);
    }
  }

  /** The call's outcome, budget and breaker state for the health model (lib/health). */
  private get healthConnection() {
    return { name: this.platform, kind: 'platform' as const, platform: this.platform };
  }

  private recordHealth(outcome: Outcome): void {
    const connection = this.healthConnection;
    recordOutcome(connection, outcome);
    const budget = this.options.throttle?.budget?.(Date.now());
    const breaker = this.options.guard?.state?.();
    recordLimits(connection, { ...(budget ? { budget } : {}), ...(breaker ? { breaker } : {}) });
  }

  private async exchange(call: UpstreamCall, timeoutMs: number): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.options.protocol.authHeaders(),
    };
    let body: string | null = null;
    if (call.form !== undefined) {
      body = formBody(call.form);
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    const base = call.fromOrigin ? this.origin : `${this.origin}${this.basePath}`;
    const response = await request(`${base}${call.path}${buildQuery(call.query)}`, {
      method: call.method,
      headers,
      body,
      dispatcher: this.dispatcher,
      // The signal is the timeout: undici's own header and body timers tick on a coarse clock that
      // can fire up to half a second early, which a short deadline cannot afford. They stay as a
      // backstop a second later.
      headersTimeout: timeoutMs + 1_000,
      bodyTimeout: timeoutMs + 1_000,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    const contentType = headerValue(response.headers, 'content-type') ?? '';
    let parsed: unknown = text;
    if (text.length > 0 && /json/i.test(contentType)) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw this.failure(
          call,
          { code: 'UPSTREAM_BAD_RESPONSE', status: response.statusCode },
          `answered ${response.statusCode} with a body that is not valid JSON`,
        );
      }
    } else if (text.length === 0) {
      parsed = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body: parsed };
  }

  private errorFor(call: UpstreamCall, response: UpstreamResponse): UpstreamError {
    const described = this.options.protocol.describeFailure(response.status, response.body, response.headers);
    const retryAfter = described.retryAfterSeconds ?? retryAfterSeconds(response.headers);
    const base = {
      status: response.status,
      ...(described.upstreamCode ? { upstreamCode: described.upstreamCode } : {}),
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      ...(described.resetsAt ? { resetsAt: described.resetsAt } : {}),
    };
    if (response.status === 429 || described.rateLimited) {
      return this.failure(
        call,
        { ...base, code: 'UPSTREAM_RATE_LIMITED' },
        `rate limit reached: ${described.message}`,
      );
    }
    if (response.status === 401 || response.status === 403 || described.unauthorized) {
      return this.failure(
        call,
        { ...base, code: 'UPSTREAM_UNAUTHORIZED' },
        `rejected our credentials: ${described.message}`,
      );
    }
    if (response.status === 503) {
      return this.failure(
        call,
        { ...base, code: 'UPSTREAM_UNAVAILABLE' },
        `unavailable: ${described.message}`,
      );
    }
    return this.failure(
      call,
      { ...base, code: 'UPSTREAM_ERROR' },
      `answered ${response.status}: ${described.message}`,
    );
  }

  private transportError(
    call: UpstreamCall,
    caught: unknown,
    timeoutMs: number,
    cutByDeadline: boolean,
  ): UpstreamError {
    const timedOut =
      caught instanceof undiciErrors.HeadersTimeoutError ||
      caught instanceof undiciErrors.BodyTimeoutError ||
      (caught instanceof Error && (caught.name === 'TimeoutError' || caught.name === 'AbortError'));
    if (timedOut && cutByDeadline) {
      return deadlineError(
        this.platform,
        call.endpoint,
        `did not answer within the ${timeoutMs} ms left before the request's deadline`,
      );
    }
    if (timedOut) {
      return this.failure(call, { code: 'UPSTREAM_TIMEOUT' }, `did not answer within ${timeoutMs} ms`);
    }
    const reason = caught instanceof Error && 'code' in caught ? String(caught.code) : 'connection failed';
    return this.failure(call, { code: 'UPSTREAM_UNAVAILABLE' }, `could not be reached (${reason})`);
  }

  async close(): Promise<void> {
    this.options.guard?.close?.();
    await this.dispatcher.close();
  }
}
