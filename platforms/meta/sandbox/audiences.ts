import {
  identifiersOf,
  refuse,
  type AudienceOperation,
  type UsersRefusal,
  type UsersRequest,
} from './users-payload.js';

/**
 * Customer-file custom audiences as the users edge changes them. A row that cannot be matched (a
 * value that is not a SHA-256 digest where one is required, a row of the wrong width, a row with
 * no value at all) is counted in `num_invalid_entries` and sampled, and the rest still apply.
 *
 * Membership is a set of people: a row names one person by each of its identifiers, a row that
 * shares an identifier with a member is that member (adding the same person twice changes
 * nothing), and a removal takes out every member one of its identifiers names.
 */

const MAX_INVALID_SAMPLES = 10;

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
