import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a signature the request carried with one computed here, in time that does not depend
 * on where they differ. Both are compared as their ASCII text (base64 or hex), so a header padded
 * with junk that a lenient decoder would skip cannot pass. Lengths are public; only equal-length
 * buffers reach `timingSafeEqual`, which throws otherwise.
 */
export function sameSignature(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
