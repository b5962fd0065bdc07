import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import { scrubSecrets } from './scrub.js';
import { AddressBlockedError, type SsrfGuard } from './ssrf/guard.js';

/** Why an attempt failed: no answer in time, no connection, an answer other than 2xx, or the SSRF guard. */
export const ATTEMPT_ERROR_CLASSES = ['timeout', 'connection', 'status', 'blocked'] as const;
export type AttemptErrorClass = (typeof ATTEMPT_ERROR_CLASSES)[number];

/** The first bytes of a response body kept with the attempt. */
export const RESPONSE_BODY_LIMIT = 1024;

export interface AttemptResult {
  /** The response's status; null when none came. */
  statusCode: number | null;
  /** Until the response's headers and first 1 KB were read, or the failure. */
  latencyMs: number;
  /** The first 1 KB of the response body (UTF-8, secrets scrubbed); null when no response came. */
  responseBody: string | null;
  /** Null for a 2xx. */
  errorClass: AttemptErrorClass | null;
  /** For a failure without a status: what went wrong, in a few words (no URL). */
  errorMessage: string | null;
  /** The response's `Retry-After`, as sent. */
  retryAfter: string | null;
}

/** The dispatcher was stopped mid-attempt: nothing is recorded and the message is released. */
export class AttemptAbortedError extends Error {
  constructor() {
    super('the delivery was stopped mid-attempt');
    this.name = 'AttemptAbortedError';
  }
}

export interface AttemptRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The undici agent whose `connect.lookup` is the guard's. */
  agent: Dispatcher;
  guard: SsrfGuard;
  timeoutMs: number;
  /** Secrets to scrub from the response body besides the well-known shapes. */
  secrets: readonly string[];
  /** Aborted when the dispatcher stops. */
  stop: AbortSignal;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 5;) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function failure(error: unknown, timedOut: boolean): Pick<AttemptResult, 'errorClass' | 'errorMessage'> {
  const chain = causes(error);
  const blocked = chain.find((e): e is AddressBlockedError => e instanceof AddressBlockedError);
  if (blocked)
    return { errorClass: 'blocked', errorMessage: `refused: resolves to a ${blocked.range.kind} address` };
  if (timedOut || chain.some((e) => TIMEOUT_CODES.has(codeOf(e) ?? '')))
    return { errorClass: 'timeout', errorMessage: 'no complete response within the attempt timeout' };
  const first = chain.find((e) => codeOf(e) !== undefined) ?? error;
  const code = codeOf(first);
  const message = first instanceof Error ? first.message : String(first);
  return {
    errorClass: 'connection',
    errorMessage: `${code ? `${code}: ` : ''}${message}`.slice(0, 200),
  };
}

/** Stateless (no `stream` option), so one serves every attempt. */
const utf8 = new TextDecoder();

/** Reads at most `limit` bytes of a body, then lets the rest go. */
async function readPrefix(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    // Leaving the loop destroys the stream: a body longer than the limit costs its connection.
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/**
 * One POST to an endpoint: no redirect followed (a 3xx is a failure like any non-2xx), the whole
 * exchange bounded by the timeout, the response's first 1 KB kept with secrets scrubbed.
 * Resolves with what happened; throws only AttemptAbortedError, when `stop` fires.
 */
export async function sendAttempt(attempt: AttemptRequest): Promise<AttemptResult> {
  // Stopped before it started (an attempt started late): nothing is sent, the message is released.
  if (attempt.stop.aborted) throw new AttemptAbortedError();
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  // One controller for both reasons to stop, with a timer cleared as soon as the attempt ends
  // (AbortSignal.timeout would keep one alive for the whole timeout after every fast success).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, attempt.timeoutMs);
  const onStop = () => controller.abort();
  attempt.stop.addEventListener('abort', onStop, { once: true });
  const signal = controller.signal;
  try {
    // net.connect looks up host names only; an address literal is checked here, on every attempt
    // (the guard keeps its answer per URL), so an allow-list narrowed since the endpoint was saved
    // applies at once.
    attempt.guard.checkAttemptUrl(attempt.url);
    const response = await request(attempt.url, {
      method: 'POST',
      dispatcher: attempt.agent,
      headers: attempt.headers,
      body: attempt.body,
      signal,
    });
    const prefix = await readPrefix(response.body, RESPONSE_BODY_LIMIT);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    const retryAfter = response.headers['retry-after'];
    return {
      statusCode: response.statusCode,
      latencyMs: elapsed(),
      responseBody: scrubSecrets(utf8.decode(prefix), attempt.secrets),
      errorClass: ok ? null : 'status',
      errorMessage: null,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
    };
  } catch (error) {
    if (attempt.stop.aborted) throw new AttemptAbortedError();
    return {
      statusCode: null,
      latencyMs: elapsed(),
      responseBody: null,
      ...failure(error, timedOut),
      retryAfter: null,
    };
  } finally {
    clearTimeout(timer);
    attempt.stop.removeEventListener('abort', onStop);
  }
}
