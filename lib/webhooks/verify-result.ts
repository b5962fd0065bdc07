/**
 * Why a webhook failed its signature check. The endpoint answers 401 for every reason and counts
 * them apart, so an operator can tell a misconfigured secret (`bad-signature`) from a replay
 * (`stale`) or a platform sending another scheme (`unsupported-version`).
 */
export type VerifyFailureReason =
  /** The signature header (or Mailchimp's URL secret) is absent. */
  | 'missing-signature'
  /** The timestamp header a timestamped scheme needs is absent. */
  | 'missing-timestamp'
  /** Standard Webhooks' `webhook-id` is absent: it is part of what is signed. */
  | 'missing-id'
  /** The timestamp is not a whole number. */
  | 'bad-timestamp'
  /** Signed longer ago than the tolerance: a replay, or a delivery stuck too long. */
  | 'stale'
  /** Signed further in the future than the tolerance: a skewed clock or a forged timestamp. */
  | 'future'
  /** A signature is there but none of the configured secrets produces it. */
  | 'bad-signature'
  /** Signed with a scheme version this endpoint does not accept (HubSpot v1 when off, v2). */
  | 'unsupported-version';

export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailureReason };

export const verified: VerifyResult = { ok: true };

export function rejected(reason: VerifyFailureReason): VerifyResult {
  return { ok: false, reason };
}
