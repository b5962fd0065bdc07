import type { StoredTraceContext } from '../../lib/telemetry/tracing.js';
import type { IncomingEvent } from '../../lib/events/event.js';
import type { AttemptErrorClass } from '../attempt.js';
import type { DisabledReason, Endpoint, EndpointChanges } from '../endpoint.js';
import type { Verdict } from '../retry-policy.js';

/**
 * Where the deliveries keep their state: endpoints and their secrets, the outbox (one message per
 * endpoint and event), every attempt, and the notices waiting to be emitted. One interface, so the
 * distributed implementation (Redis) can follow the embedded one (SQLite, in the event log's file)
 * and be held to the same contract (test/deliveries/store-contract.ts).
 *
 * What an implementation must guarantee:
 * - `enqueue` is idempotent on the message id (endpoint + event), and stores the follower cursor
 *   in the same write, so a crash between reading events and enqueueing them repeats the read
 *   without duplicating a message or losing one;
 * - a claimed message is invisible to other claims until settled, released, or its lease expires
 *   (a dispatcher that died holding it): at least once, never twice at the same time in one process;
 * - `settle` writes the attempt, the message's new state, the endpoint's failing streak and the
 *   notice (if any) together;
 * - only `settle` with a `succeeded` verdict (after a 2xx) marks a message succeeded.
 * Times are epoch ms on the deliveries' clock, passed in: a store never reads a clock.
 */
export interface DeliveryStore {
  readonly kind: 'sqlite' | 'redis';

  /**
   * Changes made through other instances of a shared store (other worker processes): a store
   * shared between processes has it, so each dispatcher hears of endpoints changed and messages
   * enqueued elsewhere. Best effort (a change may be missed while reconnecting), so a listener
   * also re-reads now and then. Returns the unsubscribe.
   */
  watch?(listener: (change: StoreChange) => void): () => void;

  // ── endpoints ──────────────────────────────────────────────────────────────
  createEndpoint(endpoint: Endpoint, secret: StoredSecret): Promise<void>;
  /** Undefined when there is no such endpoint. */
  updateEndpoint(id: string, changes: EndpointChanges, nowMs: number): Promise<Endpoint | undefined>;
  /** Deletes the endpoint with its secrets, messages and attempts; false when there was none. */
  deleteEndpoint(id: string): Promise<boolean>;
  endpoint(id: string): Promise<Endpoint | undefined>;
  /** Oldest first. */
  endpoints(filter?: { ownerClientId?: string }): Promise<Endpoint[]>;
  /** Switches it on again, with a fresh failing streak. Undefined when there is no such endpoint. */
  enableEndpoint(id: string, nowMs: number): Promise<Endpoint | undefined>;
  /**
   * Switches it off: its pending messages become `failed` (`endpoint-disabled`), to be recovered
   * once it is on again; `notice`, when given, is kept for emitting, only if this call disabled it.
   */
  disableEndpoint(
    id: string,
    reason: DisabledReason,
    nowMs: number,
    notice?: IncomingEvent,
  ): Promise<{ endpoint: Endpoint | undefined; changed: boolean }>;

  // ── secrets ────────────────────────────────────────────────────────────────
  /** The secrets that sign now (no expiry, or expiring after `nowMs`), newest first. */
  activeSecrets(endpointId: string, nowMs: number): Promise<StoredSecret[]>;
  /**
   * Adds `next` and makes every secret without an expiry expire at `retireAtMs` (now, or the end
   * of the overlap); forgets secrets already expired. False when there is no such endpoint.
   */
  rotateSecret(endpointId: string, next: StoredSecret, retireAtMs: number, nowMs: number): Promise<boolean>;

  // ── outbox ─────────────────────────────────────────────────────────────────
  /**
   * Adds messages, skipping ids already there; a message for a disabled endpoint is added as
   * `failed` (`endpoint-disabled`). Stores `cursor` (the follower's place in the event log) in the
   * same write when given. Returns how many were added.
   */
  enqueue(messages: readonly NewMessage[], cursor?: string): Promise<number>;
  /**
   * A number that grows with every `noteChange`: how a process learns, by one cheap read, that
   * another (the management API's) changed endpoints, secrets or due messages, so its caches and
   * lanes are stale. 0 before the first change.
   */
  changeVersion(): Promise<number>;
  /** Bumps `changeVersion`: called after every change the dispatchers of other processes must hear of. */
  noteChange(): Promise<void>;
  /** The follower's place in the event log, as `enqueue` last stored it. */
  followerCursor(): Promise<string | undefined>;
  /**
   * Up to `max` pending messages of one endpoint due at `nowMs`, oldest due first, claimed by
   * `owner` until `leaseUntilMs`; with the endpoint's next due time after the claim (null when
   * nothing else is pending and unclaimed). A shared store first takes back claims whose lease
   * ran out, and counts the first lease to run out as a due time, so a surviving dispatcher
   * wakes to take over a dead one's messages.
   */
  claim(
    endpointId: string,
    owner: string,
    nowMs: number,
    max: number,
    leaseUntilMs: number,
  ): Promise<ClaimResult>;
  /**
   * `claim` for several endpoints at once, one result per request in order, each as `claim` would
   * give it: the dispatcher's pass over its lanes. The embedded store only reads (its claims are
   * held in memory), the shared one makes one round trip.
   */
  claimMany(
    requests: readonly ClaimRequest[],
    owner: string,
    nowMs: number,
    leaseUntilMs: number,
  ): Promise<ClaimResult[]>;
  /** Each endpoint with pending unclaimed messages, and when its first is due (a shared store: or a lease runs out). */
  dueTimes(): Promise<Map<string, number>>;
  /** Records an attempt and its verdict together; returns the endpoint's failing streak after it. */
  settle(settlement: Settlement): Promise<{ failingSinceMs: number | null }>;
  /** Puts claimed messages back, due at `nowMs`, without an attempt (a dispatcher stopping). */
  release(messageIds: readonly string[], nowMs: number): Promise<void>;
  /**
   * Releases every claim (the embedded store at start-up: the process that held them is gone, so
   * what was in flight is due again). Returns how many.
   */
  releaseAllClaims(nowMs: number): Promise<number>;

  // ── replay ─────────────────────────────────────────────────────────────────
  /**
   * Sends one message again whatever its status, with a fresh schedule (a message being
   * attempted right now is left to that attempt). Undefined when there is no such message.
   */
  replayMessage(messageId: string, nowMs: number): Promise<OutboxMessage | undefined>;
  /** Sends again every `failed` or `exhausted` message of the endpoint created at or after `sinceMs`; returns how many. */
  recoverEndpoint(endpointId: string, sinceMs: number, nowMs: number): Promise<number>;

  // ── reading ────────────────────────────────────────────────────────────────
  message(id: string): Promise<OutboxMessage | undefined>;
  /** Newest first; `beforeSeq` pages on. */
  messages(query: {
    endpointId: string;
    status?: MessageStatus;
    beforeSeq?: number;
    limit: number;
  }): Promise<OutboxMessage[]>;
  /** Newest first; by message or by endpoint; `beforeId` pages on. */
  attempts(query: {
    messageId?: string;
    endpointId?: string;
    beforeId?: number;
    limit: number;
  }): Promise<AttemptRecord[]>;

  // ── notices ────────────────────────────────────────────────────────────────
  /** Notices not yet emitted, oldest first. */
  pendingNotices(limit: number): Promise<{ id: number; event: IncomingEvent }[]>;
  forgetNotices(ids: readonly number[]): Promise<void>;

  // ── upkeep ─────────────────────────────────────────────────────────────────
  stats(): Promise<OutboxStats>;
  /** Deletes settled messages last changed before `beforeMs`, with their attempts; returns how many messages. */
  prune(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/** What `watch` reports: an endpoint changed (created, updated, enabled, disabled, deleted, secret rotated), or messages became due. */
export type StoreChange = { kind: 'endpoint'; endpointId: string } | { kind: 'due'; endpointIds: string[] };

export const MESSAGE_STATUSES = ['pending', 'succeeded', 'failed', 'exhausted'] as const;
/**
 * - `pending`: waiting for its next attempt, or being attempted (claimed);
 * - `succeeded`: an attempt got a 2xx;
 * - `failed`: stopped before its schedule ran out (`410 Gone`, or its endpoint is disabled);
 * - `exhausted`: every attempt of the schedule failed.
 */
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface ClaimRequest {
  endpointId: string;
  /** At most this many messages. */
  max: number;
}

export interface ClaimResult {
  messages: OutboxMessage[];
  /** The endpoint's next due time after the claim; null when nothing else is pending and unclaimed. */
  nextDueMs: number | null;
}

export interface StoredSecret {
  id: string;
  endpointId: string;
  /** As the sealer wrote it (secrets.ts). */
  sealed: string;
  createdAtMs: number;
  /** Null while it is the current secret; set when rotated out. */
  expiresAtMs: number | null;
}

export interface NewMessage {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The exact bytes every attempt sends and signs. */
  body: string;
  createdAtMs: number;
  /** The trace of the webhook behind its event, which each attempt's span joins; absent when tracing was off. */
  trace?: StoredTraceContext;
}

export interface OutboxMessage extends NewMessage {
  /** Insertion order, for paging. */
  seq: number;
  status: MessageStatus;
  /** Attempts since it was enqueued, replayed or recovered: its place in the schedule. */
  attempts: number;
  /** When it is next due (pending only). */
  nextAttemptMs: number | null;
  updatedAtMs: number;
  lastStatusCode: number | null;
  lastErrorClass: AttemptErrorClass | null;
  /** Why it stopped, when it did without exhausting its schedule (`gone`, `endpoint-disabled`). */
  lastError: string | null;
}

export interface AttemptRecord {
  id: number;
  messageId: string;
  endpointId: string;
  attemptedAtMs: number;
  statusCode: number | null;
  latencyMs: number;
  /** First 1 KB of the response body, secrets scrubbed. */
  responseBody: string | null;
  errorClass: AttemptErrorClass | null;
  errorMessage: string | null;
}

export interface Settlement {
  messageId: string;
  endpointId: string;
  attempt: Omit<AttemptRecord, 'id'>;
  verdict: Verdict;
  /** The canonical event to emit with it (attempts exhausted). */
  notice?: IncomingEvent;
}

export interface OutboxStats {
  /** Pending messages, claimed ones included: the queue depth. */
  pending: number;
  /** Claimed messages: attempts in flight. */
  claimed: number;
}
