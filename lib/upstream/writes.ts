import type { UpstreamError } from '../errors.js';

/**
 * What a platform did with one row of a write (one member, one contact): the shape every
 * connector's write methods answer in, so an action engine or a sync can record, count and retry
 * rows the same way whatever the platform.
 */
export type RowResult = RowAccepted | RowRejected;

export interface RowAccepted {
  status: 'accepted';
  /** The row's key as the caller gave it (an email, a contact id), normalised as the platform keys it. */
  key: string;
  /**
   * What happened: `created` / `updated` when the platform says which, `upserted` when it does not,
   * `archived` for a removal, `unchanged` when there was nothing to do (archiving someone absent).
   */
  change: 'created' | 'updated' | 'upserted' | 'archived' | 'unchanged';
  /** The platform's id of the record written, when it answers one. */
  id?: string;
}

export interface RowRejected {
  status: 'rejected';
  key: string;
  /** The platform's own code for the refusal (`ERROR_GENERIC`, `INVALID_EMAIL`, `Member In Compliance State`). */
  code: string;
  /** The platform's reason, as it gave it (personal data it echoes stays in the row, not in logs). */
  reason: string;
  /**
   * Sending the same row again may succeed without changing it (a conflict or a passing state);
   * false when the row itself is wrong (an invalid address, an unknown property) and must be fixed.
   */
  retryable: boolean;
}

/**
 * Whether a write that failed as a whole may nonetheless have been applied. A write that is not
 * idempotent (creating a note) must not be sent again after an `ambiguous` failure without first
 * checking what the platform holds; after `not-applied` it is safe to send again.
 *
 * - `not-applied`: the call never left (circuit open, our throttle, a daily limit we knew was
 *   spent), or the platform refused it before acting (any 4xx, 429 included).
 * - `ambiguous`: it may have arrived and been acted on (a timeout, a dropped connection, a 5xx, or
 *   a 2xx whose body broke the contract).
 */
export function writeFailure(error: UpstreamError): 'not-applied' | 'ambiguous' {
  const { code, status, upstreamCode } = error.details;
  if (upstreamCode === 'CIRCUIT_OPEN' || upstreamCode === 'CLIENT_THROTTLE') return 'not-applied';
  if (status !== undefined) return status >= 400 && status < 500 ? 'not-applied' : 'ambiguous';
  // No answer at all: the daily-limit gate refuses before sending; anything else may have been sent.
  if (code === 'UPSTREAM_RATE_LIMITED') return 'not-applied';
  return 'ambiguous';
}
