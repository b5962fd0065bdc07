import { createHash, randomBytes } from 'node:crypto';

/** Lower-case base32 (RFC 4648 alphabet): ids that are safe in URLs, headers and file names. */
function base32(bytes: Uint8Array, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A new endpoint's id: `ep_` and 26 base32 characters (130 random bits). */
export function newEndpointId(): string {
  return `ep_${base32(randomBytes(17), 26)}`;
}

/** A new secret's id, to tell the signing secrets of one endpoint apart. */
export function newSecretId(): string {
  return `sec_${base32(randomBytes(12), 19)}`;
}

/**
 * The message id of one event to one endpoint, sent as `webhook-id`: derived from both, so the
 * same event reaches the same endpoint under the same id whatever delivers it, however often (a
 * redelivery, a replay, a second worker), and the receiver can deduplicate on it. No `.`: the
 * signature's content is `id.timestamp.body`.
 */
export function messageIdFor(endpointId: string, eventId: string): string {
  const digest = createHash('sha256').update(`${endpointId}\n${eventId}`, 'utf8').digest();
  return `msg_${base32(digest, 26)}`;
}
