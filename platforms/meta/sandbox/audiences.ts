/**
 * Customer-file custom audiences as the users edge (`POST|DELETE /{audience-id}/users`) treats
 * them. A request carries `payload: {schema, data}` with at most 10,000 rows and a `session`
 * (`session_id`, `batch_seq` from 1, `last_batch_flag`, `estimated_num_total`) tying the parts of
 * one upload together. A malformed request is refused whole; a row that cannot be matched (a value
 * that is not a SHA-256 digest where one is required, a row of the wrong width, a row with no
 * value at all) is counted in `num_invalid_entries` and sampled, and the rest still apply.
 *
 * Membership is a set of people: a row names one person by each of its identifiers, a row that
 * shares an identifier with a member is that member (adding the same person twice changes
 * nothing), and a removal takes out every member one of its identifiers names.
 */

export const MAX_ROWS_PER_REQUEST = 10_000;
const MAX_INVALID_SAMPLES = 10;
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

const refuse = (title: string, detail: string): UsersRefusal => ({ refused: true, title, detail });

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
function identifiersOf(keys: readonly string[], row: readonly unknown[]): string[] | { reason: string } {
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

export interface UsersOutcome {
  audience_id: string;
  session_id: string;
  num_received: number;
  num_invalid_entries: number;
  /** Up to ten invalid entries, each with why (the value as sent, cut to 64 characters). */
  invalid_entry_samples: Record<string, string>;
}

interface Session {
  operation: AudienceOperation;
  batches: Set<number>;
  finished: boolean;
  received: number;
  invalid: number;
  estimatedTotal: number | undefined;
}

export interface AudienceSnapshot {
  id: string;
  name: string;
  description: string | undefined;
  /** People in the audience now. */
  size: number;
  /** Each member's identifiers, by key. */
  members: Record<string, string>[];
  sessions: {
    id: string;
    operation: AudienceOperation;
    batches: number[];
    finished: boolean;
    received: number;
    invalid: number;
    estimatedTotal: number | undefined;
  }[];
}

class Audience {
  private nextMember = 1;
  /** Member id → its identifiers (`KEY:value`). */
  private readonly members = new Map<number, Set<string>>();
  /** Identifier → the member it names. */
  private readonly index = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly description: string | undefined,
  ) {}

  get size(): number {
    return this.members.size;
  }

  private add(identifiers: readonly string[]): void {
    const found = identifiers.map((i) => this.index.get(i)).find((m) => m !== undefined);
    const member = found ?? this.nextMember++;
    const known = this.members.get(member) ?? new Set<string>();
    for (const identifier of identifiers) {
      if (this.index.has(identifier)) continue;
      known.add(identifier);
      this.index.set(identifier, member);
    }
    this.members.set(member, known);
  }

  private remove(identifiers: readonly string[]): void {
    for (const identifier of identifiers) {
      const member = this.index.get(identifier);
      if (member === undefined) continue;
      for (const other of this.members.get(member) ?? []) this.index.delete(other);
      this.members.delete(member);
    }
  }

  apply(operation: AudienceOperation, request: UsersRequest): UsersOutcome | UsersRefusal {
    const { session: part } = request;
    let session = this.sessions.get(part.id);
    if (session && session.operation !== operation)
      return refuse(
        'Invalid Session',
        `session ${part.id} ${session.operation === 'add' ? 'adds' : 'removes'} users; start another session to ${operation === 'add' ? 'add' : 'remove'} them`,
      );
    if (session?.finished && !session.batches.has(part.batchSeq))
      return refuse(
        'Upload Session Finished',
        `session ${part.id} ended with its last batch; start another session for more users`,
      );
    session ??= {
      operation,
      batches: new Set(),
      finished: false,
      received: 0,
      invalid: 0,
      estimatedTotal: part.estimatedTotal,
    };
    this.sessions.set(part.id, session);
    const samples: Record<string, string> = {};
    let invalid = 0;
    for (const row of request.rows) {
      const identifiers = identifiersOf(request.keys, row);
      if (Array.isArray(identifiers)) {
        if (operation === 'add') this.add(identifiers);
        else this.remove(identifiers);
        continue;
      }
      invalid += 1;
      if (Object.keys(samples).length < MAX_INVALID_SAMPLES)
        samples[JSON.stringify(row).slice(0, 64)] = identifiers.reason;
    }
    // A batch sent again (a retry) changes nothing in a set, and is not counted twice.
    if (!session.batches.has(part.batchSeq)) {
      session.received += request.rows.length;
      session.invalid += invalid;
    }
    session.batches.add(part.batchSeq);
    if (part.last) session.finished = true;
    return {
      audience_id: this.id,
      session_id: part.id,
      num_received: request.rows.length,
      num_invalid_entries: invalid,
      invalid_entry_samples: samples,
    };
  }

  snapshot(): AudienceSnapshot {
    return {
      id: this.id,
      name: this.name,
      description: this.description,
      size: this.size,
      members: [...this.members.values()].map((identifiers) =>
        Object.fromEntries(
          [...identifiers].map((identifier) => {
            const at = identifier.indexOf(':');
            return [identifier.slice(0, at), identifier.slice(at + 1)];
          }),
        ),
      ),
      sessions: [...this.sessions.entries()].map(([id, s]) => ({
        id,
        operation: s.operation,
        batches: [...s.batches].sort((a, b) => a - b),
        finished: s.finished,
        received: s.received,
        invalid: s.invalid,
        estimatedTotal: s.estimatedTotal,
      })),
    };
  }
}

export const CUSTOMER_FILE_SOURCES = new Set([
  'USER_PROVIDED_ONLY',
  'PARTNER_PROVIDED_ONLY',
  'BOTH_USER_AND_PARTNER_PROVIDED',
]);

/** The ad account's customer-file audiences. New ids follow Meta's 17-digit shape. */
export class Audiences {
  private readonly audiences = new Map<string, Audience>();
  private nextId = 23_850_000_000_100_001n;

  constructor(seed: readonly { id: string; name: string }[]) {
    for (const { id, name } of seed) this.audiences.set(id, new Audience(id, name, undefined));
  }

  create(name: string, description: string | undefined): string {
    const id = String(this.nextId++);
    this.audiences.set(id, new Audience(id, name, description));
    return id;
  }

  get(id: string): Audience | undefined {
    return this.audiences.get(id);
  }

  list(): { id: string; name: string; size: number }[] {
    return [...this.audiences.values()].map(({ id, name, size }) => ({ id, name, size }));
  }
}
