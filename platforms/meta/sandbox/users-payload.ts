/**
 * The users edge's request as Meta reads it (`POST|DELETE /{audience-id}/users`): `payload:
 * {schema, data}` with at most 10,000 rows, and the `session` tying the parts of one upload
 * together (`session_id`, `batch_seq` from 1, `last_batch_flag`, `estimated_num_total`). A malformed
 * request is refused whole; each row is read on its own (identifiersOf), so one that cannot be
 * matched is only counted as an invalid entry.
 */

export const MAX_ROWS_PER_REQUEST = 10_000;
const SHA256_HEX = /^[a-f0-9]{64}$/;

/** Keys Meta wants SHA-256 hashed, after its normalisation rules. */
const HASHED_KEYS = new Set([
  'EMAIL',
  'PHONE',
  'FN',
  'LN',
  'FI',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'CT',
  'ST',
  'ZIP',
  'COUNTRY',
]);
/** Keys sent as they are: the advertiser's own id, mobile advertiser ids. */
const PLAIN_KEYS = new Set(['EXTERN_ID', 'MADID']);
/** The single-key schemas of older API versions, still accepted. */
const LEGACY_KEYS: Record<string, string> = { EMAIL_SHA256: 'EMAIL', PHONE_SHA256: 'PHONE' };

export type AudienceOperation = 'add' | 'remove';

export interface UsersRequest {
  /** Keys in the schema's order, legacy names mapped to today's. */
  keys: string[];
  rows: unknown[][];
  session: { id: string; batchSeq: number; last: boolean; estimatedTotal: number | undefined };
}

export interface UsersRefusal {
  refused: true;
  title: string;
  detail: string;
}

export const refuse = (title: string, detail: string): UsersRefusal => ({ refused: true, title, detail });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A positive integer written as a number or as digits (Meta's ids are 64-bit). */
function positiveInteger(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9]\d{0,18}$/.test(value)) return value;
  return undefined;
}

function sessionOf(value: unknown): UsersRequest['session'] | UsersRefusal {
  if (!isRecord(value))
    return refuse(
      'Missing Session',
      'session is required: {"session_id", "batch_seq", "last_batch_flag", "estimated_num_total"}',
    );
  const id = positiveInteger(value['session_id']);
  if (!id) return refuse('Invalid Session', 'session.session_id must be a positive integer');
  const seq = positiveInteger(value['batch_seq']);
  if (!seq || Number(seq) > 1_000_000)
    return refuse('Invalid Session', 'session.batch_seq must be a positive integer, 1 for the first batch');
  if (typeof value['last_batch_flag'] !== 'boolean')
    return refuse('Invalid Session', 'session.last_batch_flag must be true or false');
  const total = value['estimated_num_total'];
  if (total !== undefined && (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0))
    return refuse('Invalid Session', 'session.estimated_num_total must be a non-negative integer');
  return { id, batchSeq: Number(seq), last: value['last_batch_flag'], estimatedTotal: total };
}

/** Reads `payload` and `session`; a refusal for the whole request when they are not what Meta takes. */
export function usersRequestOf(params: Record<string, unknown>): UsersRequest | UsersRefusal {
  const payload = params['payload'];
  if (!isRecord(payload))
    return refuse('Missing Payload', 'payload is required: {"schema": [...], "data": [[...], ...]}');
  const schema = payload['schema'];
  const single = typeof schema === 'string';
  const names = single ? [schema] : schema;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string'))
    return refuse('Missing Schema', 'payload.schema must be a key or a non-empty list of keys');
  const keys: string[] = [];
  for (const name of names as string[]) {
    const key = LEGACY_KEYS[name] ?? name;
    if (!HASHED_KEYS.has(key) && !PLAIN_KEYS.has(key))
      return refuse('Invalid Schema', `payload.schema: ${name.slice(0, 40)} is not a key Meta matches on`);
    if (keys.includes(key)) return refuse('Invalid Schema', `payload.schema names ${key} twice`);
    keys.push(key);
  }
  const data = payload['data'];
  if (!Array.isArray(data) || data.length === 0)
    return refuse('Missing Data', 'payload.data must be a non-empty list of rows');
  if (data.length > MAX_ROWS_PER_REQUEST)
    return refuse(
      'Too Many Users',
      `payload.data holds ${data.length} rows; a request may send at most ${MAX_ROWS_PER_REQUEST}`,
    );
  const session = sessionOf(params['session']);
  if ('refused' in session) return session;
  // A single-key schema takes a flat list of values; a list schema takes rows.
  const rows = data.map((row): unknown[] => (Array.isArray(row) ? row : [row]));
  return { keys, rows, session };
}

/** A row's identifiers as `KEY:value`, or why the row cannot be matched. */
export function identifiersOf(
  keys: readonly string[],
  row: readonly unknown[],
): string[] | { reason: string } {
  if (row.length !== keys.length)
    return { reason: `row has ${row.length} values for a schema of ${keys.length} keys` };
  const identifiers: string[] = [];
  for (const [i, key] of keys.entries()) {
    const value = row[i];
    if (value === '' || value === null || value === undefined) continue;
    if (typeof value !== 'string') return { reason: `${key} must be a string` };
    if (HASHED_KEYS.has(key) && !SHA256_HEX.test(value))
      return { reason: `${key} must be SHA-256 hashed (64 lowercase hex characters)` };
    if (value.length > 256) return { reason: `${key} is longer than 256 characters` };
    identifiers.push(`${key}:${value}`);
  }
  return identifiers.length > 0 ? identifiers : { reason: 'row has no value for any key' };
}
