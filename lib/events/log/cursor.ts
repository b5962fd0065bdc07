/**
 * Delivery cursors: opaque to clients, but fixed-width lowercase hex behind a tag, so that two
 * cursors of one log compare as strings in delivery order (a subscriber can drop anything at or
 * before the cursor it resumed from with a plain `<=`). The tag says which implementation wrote
 * it, so a cursor from the other one is rejected instead of being misread.
 *
 * - SQLite: `s1_` + the delivery row's `seq` as 16 hex digits (`s1_000000000000002a`).
 * - Redis:  `r1_` + the delivery stream entry id `<ms>-<n>` as two 16-digit hex parts
 *   (`r1_0000019a2b3c4d5e_0000000000000000`).
 */

const SQLITE = /^s1_([0-9a-f]{16})$/;
const REDIS = /^r1_([0-9a-f]{16})_([0-9a-f]{16})$/;
const STREAM_ID = /^(\d+)-(\d+)$/;

const hex16 = (value: bigint): string => value.toString(16).padStart(16, '0');

/** What a resolver can turn into BAD_USER_INPUT: the message names the cursor and what is wrong. */
function invalidCursor(cursor: string): RangeError {
  const shown = cursor.length > 64 ? `${cursor.slice(0, 64)}...` : cursor;
  return new RangeError(`Invalid cursor "${shown}": it is not a cursor of this event log.`);
}

export function sqliteCursor(seq: number): string {
  return `s1_${hex16(BigInt(seq))}`;
}

/** The `seq` a cursor points at. Throws RangeError on anything else. */
export function parseSqliteCursor(cursor: string): number {
  const match = SQLITE.exec(cursor);
  const seq = match?.[1] === undefined ? undefined : BigInt(`0x${match[1]}`);
  if (seq === undefined || seq > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidCursor(cursor);
  return Number(seq);
}

export function redisCursor(streamId: string): string {
  const match = STREAM_ID.exec(streamId);
  if (!match?.[1] || !match[2]) throw new RangeError(`not a stream entry id: ${streamId}`);
  return `r1_${hex16(BigInt(match[1]))}_${hex16(BigInt(match[2]))}`;
}

/** The stream entry id (`<ms>-<n>`) a cursor points at. Throws RangeError on anything else. */
export function parseRedisCursor(cursor: string): string {
  const match = REDIS.exec(cursor);
  if (!match?.[1] || !match[2]) throw invalidCursor(cursor);
  return `${BigInt(`0x${match[1]}`)}-${BigInt(`0x${match[2]}`)}`;
}
