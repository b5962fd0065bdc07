import { GraphQLError } from 'graphql';

/**
 * The one public list of error codes. Every error that leaves the gateway carries one of these in
 * `extensions.code`; clients branch on the code, never on the message.
 */
export const ErrorCode = {
  /** The HTTP request itself is malformed: not JSON, too large, wrong method or content type. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** An argument or variable is outside what the field accepts. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The operation does not parse or does not validate against the schema. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The request names an operation the document does not contain, or several without a name. */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  /** No credentials, or credentials that are not valid. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Valid credentials that do not carry the scope a field needs. */
  FORBIDDEN: 'FORBIDDEN',
  /** The caller sent more than its rate limit allows. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The operation exceeds a depth, cost, alias or size limit. */
  OPERATION_LIMIT_EXCEEDED: 'OPERATION_LIMIT_EXCEEDED',
  /** A platform answered with an error the connector could not recover from. */
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  /** A platform answered with a payload that does not match its documented contract. */
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  /** A platform's rate limit would make the request wait past its deadline. */
  UPSTREAM_RATE_LIMITED: 'UPSTREAM_RATE_LIMITED',
  /** A platform is down or its circuit breaker is open. */
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  /** A platform did not answer within the timeout. */
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  /** The platform rejected the credentials this deployment holds for it. */
  UPSTREAM_UNAUTHORIZED: 'UPSTREAM_UNAUTHORIZED',
  /**
   * The platform withholds data the deployment's app is not granted (an OAuth scope such as
   * Shopify's `read_all_orders`, or Shopify's protected customer data); `reason` says which.
   */
  UPSTREAM_DATA_WITHHELD: 'UPSTREAM_DATA_WITHHELD',
  /** A subgraph could not be reached or answered with something other than GraphQL. */
  DOWNSTREAM_SERVICE_ERROR: 'DOWNSTREAM_SERVICE_ERROR',
  /** A webhook's signature (or Mailchimp's URL secret) is missing, stale or does not verify. */
  WEBHOOK_SIGNATURE_INVALID: 'WEBHOOK_SIGNATURE_INVALID',
  /** A signed webhook whose body is not the platform's documented payload; `problems` names the fields. */
  WEBHOOK_PAYLOAD_INVALID: 'WEBHOOK_PAYLOAD_INVALID',
  /** Webhooks from this source are not configured on this deployment (no secret set). */
  WEBHOOK_SOURCE_NOT_CONFIGURED: 'WEBHOOK_SOURCE_NOT_CONFIGURED',
  /** The event log could not store the webhook's events; the platform should redeliver. */
  EVENT_LOG_UNAVAILABLE: 'EVENT_LOG_UNAVAILABLE',
  /** A subscriber stopped reading while events piled up; its stream was ended. Resume with `after`. */
  SUBSCRIBER_TOO_SLOW: 'SUBSCRIBER_TOO_SLOW',
  /** Anything else. The message is masked; the request id in the error finds the log line. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const publicErrorCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** A client mistake in an argument: the message says which argument and what is accepted. */
export function badUserInput(message: string, argumentName?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, ...(argumentName ? { argumentName } : {}) },
  });
}

/**
 * The platform a client names in an error, metric or cache key: a descriptor's `name`
 * (platforms/registry.ts lists them; lib sits below it and names none).
 */
export type Platform = string;

export interface UpstreamErrorDetails {
  platform: Platform;
  code: Extract<
    ErrorCode,
    | 'UPSTREAM_ERROR'
    | 'UPSTREAM_BAD_RESPONSE'
    | 'UPSTREAM_RATE_LIMITED'
    | 'UPSTREAM_UNAVAILABLE'
    | 'UPSTREAM_TIMEOUT'
    | 'UPSTREAM_UNAUTHORIZED'
    | 'UPSTREAM_DATA_WITHHELD'
  >;
  /** The endpoint as a pattern (`GET /crm/v3/objects/contacts/{id}`), never a URL with ids or secrets. */
  endpoint?: string;
  /** HTTP status the platform answered with, when it answered. */
  status?: number;
  /** The platform's own error identifier (category, error code, problem type), when it gave one. */
  upstreamCode?: string;
  /** Seconds the platform asked us to wait, when it said. */
  retryAfterSeconds?: number;
  /** Overrides the default: a limit our own throttle enforced is not worth retrying. */
  retryable?: boolean;
  /** When the limit that refused the call resets (ISO instant): a daily limit says when calls resume. */
  resetsAt?: string;
  /** Why the platform withheld data the app may not see (`PROTECTED_CUSTOMER_DATA`, `READ_ALL_ORDERS_SCOPE_MISSING`). */
  reason?: string;
}

/**
 * An error caused by a platform. It is a GraphQLError so a resolver can throw it as is; the message
 * names the platform, and `extensions` carry the code and the platform for clients and logs.
 */
export class UpstreamError extends GraphQLError {
  readonly details: UpstreamErrorDetails;

  constructor(message: string, details: UpstreamErrorDetails) {
    super(message, {
      extensions: {
        code: details.code,
        platform: details.platform,
        ...(details.endpoint ? { endpoint: details.endpoint } : {}),
        ...(details.status !== undefined ? { upstreamStatus: details.status } : {}),
        ...(details.upstreamCode ? { upstreamCode: details.upstreamCode } : {}),
        ...(details.retryAfterSeconds !== undefined ? { retryAfterSeconds: details.retryAfterSeconds } : {}),
        ...(details.resetsAt ? { resetsAt: details.resetsAt } : {}),
        ...(details.reason ? { reason: details.reason } : {}),
      },
    });
    this.name = 'UpstreamError';
    this.details = details;
  }

  get retryable(): boolean {
    if (this.details.retryable !== undefined) return this.details.retryable;
    return (
      this.details.code === 'UPSTREAM_RATE_LIMITED' ||
      this.details.code === 'UPSTREAM_TIMEOUT' ||
      (this.details.code === 'UPSTREAM_ERROR' && (this.details.status ?? 0) >= 500) ||
      // Unreachable or 503: a connection reset or a restart is worth one more try.
      this.details.code === 'UPSTREAM_UNAVAILABLE'
    );
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}
