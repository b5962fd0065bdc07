import type { z } from 'zod';

/**
 * Why a management call was refused, for the API on top (GraphQL, CLI) to pass on as
 * `BAD_USER_INPUT` with this reason: the message is written for the person who sent the input and
 * never holds a secret or a resolved internal address.
 */
export type DeliveryInputReason =
  /** A field is missing, of the wrong type or out of range (the message lists them). */
  | 'invalid-input'
  /** The URL does not parse, or its scheme, credentials or port are not accepted. */
  | 'url-invalid'
  /** The URL's host is, or resolves to, an address webhooks may not reach (the SSRF guard). */
  | 'url-blocked'
  /** The URL's host name does not resolve. */
  | 'url-unresolvable'
  | 'endpoint-not-found'
  | 'message-not-found'
  /** Replay and recover wait until the endpoint is enabled again. */
  | 'endpoint-disabled';

export class DeliveryInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly reason: DeliveryInputReason,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryInputError';
  }
}

/** A zod failure as one sentence naming each field and what is wrong with it. */
export function invalidInput(error: z.ZodError): DeliveryInputError {
  const problems = error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  return new DeliveryInputError('invalid-input', `Invalid endpoint: ${problems.join('; ')}.`);
}
