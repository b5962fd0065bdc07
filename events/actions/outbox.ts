import type { ActionEvent } from '../../platforms/kit/actions.js';

/**
 * The action outbox: every action accepted for an event, recorded durably before the event counts
 * as processed, and what became of it. One row per (rule, action, event), keyed by `key`, so an
 * event processed twice (a crash before `complete`) enqueues its actions once.
 *
 * Statuses: `pending` (due at `dueAt`), `sending` (claimed: the durable record written before the
 * platform is called), `done`, `failed` (permanently: `code` and `reason` say why).
 */
export type ActionStatus = 'pending' | 'sending' | 'done' | 'failed';

export interface NewAction {
  key: string;
  rule: string;
  platform: string;
  type: string;
  params: Record<string, unknown>;
  event: ActionEvent;
}

export interface ActionRecord extends NewAction {
  status: ActionStatus;
  /** Calls made for it so far. */
  attempts: number;
  /** When it is (or was) due, in ms since the epoch. */
  dueAt: number;
  /** The last failure's code (`UPSTREAM_RATE_LIMITED`, `SMS_OPTED_OUT`), or null. */
  code: string | null;
  reason: string | null;
  /** What the platform answered on success (a message SID, an event id), or null. */
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Kinds with due actions: how many, and since when the oldest has waited. */
export interface DueGroup {
  platform: string;
  type: string;
  count: number;
  oldestDueAt: number;
  /** When the newest became due: a batch still growing has a recent one. */
  newestDueAt: number;
}

/** What an attempt ended in, for one claimed action. */
export type Settlement =
  | { key: string; status: 'done'; detail?: string }
  | { key: string; status: 'failed'; code: string; reason: string }
  | { key: string; status: 'pending'; code: string; reason: string; dueAt: number };

export interface ActionOutbox {
  /**
   * Claims are leases that run out (a visibility timeout), and `recover` takes back only those, so
   * it is safe while other runners work on the same outbox: the runner calls it every few seconds
   * as well as at start. Absent (the embedded outbox): every claim belongs to this process, and
   * `recover` runs once, at start.
   */
  readonly sharedClaims?: boolean;
  /**
   * How long a claim's lease lasts (shared claims): the runner renews the lease of the actions of
   * a call still under way well before it runs out (`renew`), so a slow call is not taken back and
   * made twice by another worker. Absent with the embedded outbox, whose claims have no lease.
   */
  readonly claimLeaseMs?: number;
  /**
   * Extends the lease of claimed actions still `sending` to `now` + the lease (shared claims);
   * answers how many were renewed (an action taken back meanwhile is not).
   */
  renew?(keys: readonly string[], now: number): Promise<number>;
  /** Records actions not recorded yet (by key); answers how many were new. */
  enqueue(actions: readonly NewAction[]): Promise<number>;
  /** Kinds with pending actions due at `now`. */
  due(now: number): Promise<DueGroup[]>;
  /** When the next pending action falls due, or null when none waits. */
  nextDueAt(): Promise<number | null>;
  /**
   * Up to `limit` due pending actions of one kind, oldest first, marked `sending` with their
   * attempt counted, in one transaction: the record that a call is about to be made.
   */
  claim(platform: string, type: string, limit: number, now: number): Promise<ActionRecord[]>;
  /** Settles claimed actions, all in one transaction. */
  settle(settlements: readonly Settlement[]): Promise<void>;
  /**
   * After a crash (shared: claims whose lease ran out by `now`): actions found `sending` are due again when re-sending cannot apply them twice
   * (`idempotent`), and failed with `ACTION_OUTCOME_UNKNOWN` otherwise (an SMS may have left).
   */
  recover(
    idempotent: (platform: string, type: string) => boolean,
    now: number,
  ): Promise<{
    requeued: number;
    unknown: ActionRecord[];
  }>;
  get(key: string): Promise<ActionRecord | undefined>;
  /** Actions by status (all when absent), oldest first: for operators and tests. */
  list(filter?: { status?: ActionStatus; limit?: number }): Promise<ActionRecord[]>;
  /** Forgets done and failed actions settled before `before`; answers how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}
