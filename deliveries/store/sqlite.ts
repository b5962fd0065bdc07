import type { StoredTraceContext } from '../../lib/telemetry/tracing.js';
import type Database from 'better-sqlite3';
import type { EventType, IncomingEvent } from '../../lib/events/event.js';
import { EventLogOpenError } from '../../lib/events/log/errors.js';
import { GroupCommit } from '../../lib/events/log/group-commit.js';
import { openSqliteFile } from '../../lib/events/log/sqlite-file.js';
import type { AttemptErrorClass } from '../attempt.js';
import type { DisabledReason, Endpoint, EndpointChanges } from '../endpoint.js';
import { claimsFor } from './sqlite-claims.js';
import type {
  AttemptRecord,
  ClaimRequest,
  ClaimResult,
  DeliveryStore,
  MessageStatus,
  NewMessage,
  OutboxMessage,
  Settlement,
  StoredSecret,
} from './types.js';

export interface SqliteDeliveryStoreOptions {
  /**
   * The database file: the event log's (`<DATA_DIR>/events.db`), so one file holds all the
   * embedded state. Its tables are prefixed `webhook_` and versioned apart from the log's.
   */
  file: string;
  /**
   * `normal` (the default) survives a process crash; an OS crash may lose the last commits, which
   * is safe here: the follower's cursor is lost with the messages it enqueued (they are read from
   * the event log again), and a lost `succeeded` is delivered again (at least once).
   * @default 'normal'
   */
  synchronous?: 'full' | 'normal';
  /** @default 5000 */
  busyTimeoutMs?: number;
}

/** Bumped when the tables change, so an old file is refused with a clear message, not misread. */
const SCHEMA_VERSION = '2';

/**
 * An endpoint's first pending messages in due order, from the pending index alone (seq is the row
 * id): one read gives a claim both the due messages it takes (past the ones this process holds,
 * sqlite-claims.ts) and the endpoint's next due time after them. ORDER BY ... LIMIT, not min():
 * this walks the index in order and stops after a few entries.
 */
export const PENDING_ENTRIES_SQL = `SELECT seq, next_attempt_ms AS due FROM webhook_messages
  WHERE endpoint_id = ? AND status = 'pending' AND claim_owner IS NULL
  ORDER BY next_attempt_ms, seq LIMIT ?`;
/**
 * The outbox's counts (every /metrics scrape), from the index alone. Claims written by an older
 * build are counted until released at open; this process's are added from memory.
 */
export const OUTBOX_COUNTS_SQL = `SELECT count(*) AS pending, sum(claim_owner IS NOT NULL) AS claimed
  FROM webhook_messages WHERE status = 'pending'`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id               TEXT PRIMARY KEY,
  url              TEXT NOT NULL,
  description      TEXT NOT NULL,
  event_types      TEXT,
  channels         TEXT,
  rate_limit       INTEGER,
  owner_client_id  TEXT NOT NULL,
  enabled          INTEGER NOT NULL,
  disabled_reason  TEXT,
  disabled_at_ms   INTEGER,
  failing_since_ms INTEGER,
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL,
  selection        TEXT
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_owner ON webhook_endpoints (owner_client_id);
CREATE TABLE IF NOT EXISTS webhook_secrets (
  id          TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  sealed      TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  expires_ms  INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_secrets_endpoint ON webhook_secrets (endpoint_id);
CREATE TABLE IF NOT EXISTS webhook_messages (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE,
  endpoint_id      TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  body             TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'exhausted')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms  INTEGER,
  claim_owner      TEXT,
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL,
  last_status_code INTEGER,
  last_error_class TEXT,
  last_error       TEXT
);
-- Pending messages per endpoint in due order (claim_owner is NULL but in files an older build
-- wrote claims to, until they are released at open): claiming reads the next due ones without a
-- sort, the next due time from the index alone, and the outbox's counts (stats(), read by every
-- /metrics scrape) never read a row (a scan of the rows held the event loop 60-80 ms at a backlog
-- of 27,000 messages, bench:deliveries).
CREATE INDEX IF NOT EXISTS webhook_messages_unclaimed ON webhook_messages (endpoint_id, claim_owner, next_attempt_ms) WHERE status = 'pending';
DROP INDEX IF EXISTS webhook_messages_due;
DROP INDEX IF EXISTS webhook_messages_pending;
CREATE INDEX IF NOT EXISTS webhook_messages_endpoint ON webhook_messages (endpoint_id, seq);
CREATE INDEX IF NOT EXISTS webhook_messages_settled ON webhook_messages (updated_ms) WHERE status <> 'pending';
CREATE TABLE IF NOT EXISTS webhook_attempts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id    TEXT NOT NULL,
  endpoint_id   TEXT NOT NULL,
  attempted_ms  INTEGER NOT NULL,
  status_code   INTEGER,
  latency_ms    REAL NOT NULL,
  response_body TEXT,
  error_class   TEXT,
  error_message TEXT
);
CREATE INDEX IF NOT EXISTS webhook_attempts_message ON webhook_attempts (message_id, id);
CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE TABLE IF NOT EXISTS webhook_notices (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  event TEXT NOT NULL
);
`;

interface EndpointRow {
  id: string;
  url: string;
  description: string;
  event_types: string | null;
  channels: string | null;
  rate_limit: number | null;
  owner_client_id: string;
  enabled: number;
  disabled_reason: DisabledReason | null;
  disabled_at_ms: number | null;
  failing_since_ms: number | null;
  created_ms: number;
  updated_ms: number;
  selection: string | null;
}
interface SecretRow {
  id: string;
  endpoint_id: string;
  sealed: string;
  created_ms: number;
  expires_ms: number | null;
}
interface MessageRow {
  seq: number;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  body: string;
  status: MessageStatus;
  attempts: number;
  next_attempt_ms: number | null;
  created_ms: number;
  updated_ms: number;
  last_status_code: number | null;
  last_error_class: AttemptErrorClass | null;
  last_error: string | null;
  trace: string | null;
}
interface AttemptRow {
  id: number;
  message_id: string;
  endpoint_id: string;
  attempted_ms: number;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error_class: AttemptErrorClass | null;
  error_message: string | null;
}

const json = (list: readonly string[] | null): string | null => (list === null ? null : JSON.stringify(list));
const list = <T extends string>(text: string | null): T[] | null =>
  text === null ? null : (JSON.parse(text) as T[]);

function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: list<EventType>(row.event_types),
    channels: list(row.channels),
    rateLimitPerSecond: row.rate_limit,
    ownerClientId: row.owner_client_id,
    enabled: row.enabled === 1,
    disabledReason: row.disabled_reason,
    disabledAtMs: row.disabled_at_ms,
    failingSinceMs: row.failing_since_ms,
    createdAtMs: row.created_ms,
    updatedAtMs: row.updated_ms,
    selection: row.selection,
  };
}
const toSecret = (row: SecretRow): StoredSecret => ({
  id: row.id,
  endpointId: row.endpoint_id,
  sealed: row.sealed,
  createdAtMs: row.created_ms,
  expiresAtMs: row.expires_ms,
});
const toMessage = (row: MessageRow): OutboxMessage => ({
  ...(row.trace ? { trace: JSON.parse(row.trace) as StoredTraceContext } : {}),
  seq: row.seq,
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  eventType: row.event_type,
  body: row.body,
  status: row.status,
  attempts: row.attempts,
  nextAttemptMs: row.status === 'pending' ? row.next_attempt_ms : null,
  createdAtMs: row.created_ms,
  updatedAtMs: row.updated_ms,
  lastStatusCode: row.last_status_code,
  lastErrorClass: row.last_error_class,
  lastError: row.last_error,
});
const toAttempt = (row: AttemptRow): AttemptRecord => ({
  id: row.id,
  messageId: row.message_id,
  endpointId: row.endpoint_id,
  attemptedAtMs: row.attempted_ms,
  statusCode: row.status_code,
  latencyMs: row.latency_ms,
  responseBody: row.response_body,
  errorClass: row.error_class,
  errorMessage: row.error_message,
});

function openDatabase(options: SqliteDeliveryStoreOptions): Database.Database {
  return openSqliteFile({
    file: options.file,
    synchronous: options.synchronous ?? 'normal',
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    role: 'the webhook delivery store',
    check(db) {
      db.exec(SCHEMA);
      const version = db
        .prepare<[], { value: string }>(`SELECT value FROM webhook_state WHERE key = 'schema_version'`)
        .get()?.value;
      // Version 1 had no `selection` (an endpoint's enrichment); adding the column is all it takes.
      if (version === '1') {
        const columns = db
          .prepare<[], { name: string }>(`PRAGMA table_info(webhook_endpoints)`)
          .all()
          .map((column) => column.name);
        if (!columns.includes('selection'))
          db.exec(`ALTER TABLE webhook_endpoints ADD COLUMN selection TEXT`);
        db.prepare(`UPDATE webhook_state SET value = ? WHERE key = 'schema_version'`).run(SCHEMA_VERSION);
      } else if (version !== undefined && version !== SCHEMA_VERSION)
        throw new EventLogOpenError(
          'data-dir',
          `${options.file} holds webhook delivery tables of version ${version}; this build reads version ${SCHEMA_VERSION}.`,
        );
      db.prepare(`INSERT OR IGNORE INTO webhook_state (key, value) VALUES ('schema_version', ?)`).run(
        SCHEMA_VERSION,
      );
      // A message's trace context (the webhook's trace its attempts join): a nullable column added
      // where missing, which builds before it ignore.
      const messageColumns = db
        .prepare<[], { name: string }>(`PRAGMA table_info(webhook_messages)`)
        .all()
        .map((column) => column.name);
      if (!messageColumns.includes('trace')) db.exec(`ALTER TABLE webhook_messages ADD COLUMN trace TEXT`);
    },
  });
}

/**
 * The embedded delivery store: tables in the event log's SQLite file, on a connection of its own
 * (WAL lets both connections work; each transaction is synchronous, so neither holds a lock across
 * an await). For one process: its claims are held in memory (sqlite-claims.ts), so what was in
 * flight when a process died is due again at the next open.
 */
export function openSqliteDeliveryStore(options: SqliteDeliveryStoreOptions): DeliveryStore {
  const db = openDatabase(options);

  const sql = {
    insertEndpoint: db.prepare(
      `INSERT INTO webhook_endpoints (id, url, description, event_types, channels, rate_limit, owner_client_id,
         enabled, disabled_reason, disabled_at_ms, failing_since_ms, created_ms, updated_ms, selection)
       VALUES (@id, @url, @description, @event_types, @channels, @rate_limit, @owner_client_id,
         @enabled, @disabled_reason, @disabled_at_ms, @failing_since_ms, @created_ms, @updated_ms, @selection)`,
    ),
    endpoint: db.prepare<[string], EndpointRow>(`SELECT * FROM webhook_endpoints WHERE id = ?`),
    endpoints: db.prepare<[], EndpointRow>(`SELECT * FROM webhook_endpoints ORDER BY created_ms, id`),
    endpointsOf: db.prepare<[string], EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE owner_client_id = ? ORDER BY created_ms, id`,
    ),
    updateEndpoint: db.prepare(
      `UPDATE webhook_endpoints SET url = @url, description = @description, event_types = @event_types,
         channels = @channels, rate_limit = @rate_limit, selection = @selection, updated_ms = @updated_ms
       WHERE id = @id`,
    ),
    enable: db.prepare<[number, string]>(
      `UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL, disabled_at_ms = NULL,
         failing_since_ms = NULL, updated_ms = ? WHERE id = ?`,
    ),
    disable: db.prepare<[string, number, number, string]>(
      `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, disabled_at_ms = ?, updated_ms = ?
       WHERE id = ? AND enabled = 1`,
    ),
    failPending: db.prepare<[string, number, string]>(
      `UPDATE webhook_messages SET status = 'failed', last_error = ?, updated_ms = ?, next_attempt_ms = NULL,
         claim_owner = NULL
       WHERE endpoint_id = ? AND status = 'pending'`,
    ),
    deleteEndpoint: db.prepare<[string]>(`DELETE FROM webhook_endpoints WHERE id = ?`),
    deleteSecrets: db.prepare<[string]>(`DELETE FROM webhook_secrets WHERE endpoint_id = ?`),
    deleteMessages: db.prepare<[string]>(`DELETE FROM webhook_messages WHERE endpoint_id = ?`),
    deleteAttempts: db.prepare<[string]>(`DELETE FROM webhook_attempts WHERE endpoint_id = ?`),
    insertSecret: db.prepare<[string, string, string, number, number | null]>(
      `INSERT INTO webhook_secrets (id, endpoint_id, sealed, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)`,
    ),
    activeSecrets: db.prepare<[string, number], SecretRow>(
      `SELECT * FROM webhook_secrets WHERE endpoint_id = ? AND (expires_ms IS NULL OR expires_ms > ?)
       ORDER BY created_ms DESC, rowid DESC`,
    ),
    retireSecrets: db.prepare<[number, string]>(
      `UPDATE webhook_secrets SET expires_ms = ? WHERE endpoint_id = ? AND expires_ms IS NULL`,
    ),
    forgetExpiredSecrets: db.prepare<[string, number]>(
      `DELETE FROM webhook_secrets WHERE endpoint_id = ? AND expires_ms IS NOT NULL AND expires_ms <= ?`,
    ),
    enabledOf: db.prepare<[string], { enabled: number }>(
      `SELECT enabled FROM webhook_endpoints WHERE id = ?`,
    ),
    insertMessage: db.prepare(
      `INSERT INTO webhook_messages (id, endpoint_id, event_id, event_type, body, status, next_attempt_ms,
         created_ms, updated_ms, last_error, trace)
       VALUES (@id, @endpoint_id, @event_id, @event_type, @body, @status, @next_attempt_ms, @created_ms,
         @created_ms, @last_error, @trace)
       ON CONFLICT (id) DO NOTHING`,
    ),
    setState: db.prepare<[string, string]>(
      `INSERT INTO webhook_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
    getState: db.prepare<[string], { value: string }>(`SELECT value FROM webhook_state WHERE key = ?`),
    noteChange: db.prepare(
      `INSERT INTO webhook_state (key, value) VALUES ('change_version', '1')
       ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
    ),
    pendingEntries: db.prepare<[string, number], { seq: number; due: number }>(PENDING_ENTRIES_SQL),
    messageAt: db.prepare<[number], MessageRow>(`SELECT * FROM webhook_messages WHERE seq = ?`),
    dueTimes: db.prepare<[], { endpoint_id: string; due: number }>(
      `SELECT endpoint_id, min(next_attempt_ms) AS due FROM webhook_messages
       WHERE status = 'pending' AND claim_owner IS NULL GROUP BY endpoint_id`,
    ),
    insertAttempt: db.prepare(
      `INSERT INTO webhook_attempts (message_id, endpoint_id, attempted_ms, status_code, latency_ms, response_body,
         error_class, error_message)
       VALUES (@messageId, @endpointId, @attemptedAtMs, @statusCode, @latencyMs, @responseBody, @errorClass,
         @errorMessage)`,
    ),
    messageExists: db.prepare<[string], { status: MessageStatus }>(
      `SELECT status FROM webhook_messages WHERE id = ?`,
    ),
    succeed: db.prepare<[number, number | null, string]>(
      `UPDATE webhook_messages SET status = 'succeeded', attempts = attempts + 1, next_attempt_ms = NULL,
         claim_owner = NULL, updated_ms = ?, last_status_code = ?, last_error_class = NULL, last_error = NULL
       WHERE id = ?`,
    ),
    retry: db.prepare<[number, number, number | null, string | null, string]>(
      `UPDATE webhook_messages SET attempts = attempts + 1, next_attempt_ms = ?, claim_owner = NULL, updated_ms = ?,
         last_status_code = ?, last_error_class = ?
       WHERE id = ? AND status = 'pending'`,
    ),
    stop: db.prepare<[string, number, number | null, string | null, string | null, string]>(
      `UPDATE webhook_messages SET status = ?, attempts = attempts + 1, next_attempt_ms = NULL, claim_owner = NULL,
         updated_ms = ?, last_status_code = ?, last_error_class = ?, last_error = ?
       WHERE id = ? AND status = 'pending'`,
    ),
    // Only when there is a streak: most successes follow successes, and a no-op write still costs.
    streakEnds: db.prepare<[string]>(
      `UPDATE webhook_endpoints SET failing_since_ms = NULL WHERE id = ? AND failing_since_ms IS NOT NULL`,
    ),
    streakGoesOn: db.prepare<[number, string]>(
      `UPDATE webhook_endpoints SET failing_since_ms = ? WHERE id = ? AND failing_since_ms IS NULL`,
    ),
    failingSince: db.prepare<[string], { failing_since_ms: number | null }>(
      `SELECT failing_since_ms FROM webhook_endpoints WHERE id = ?`,
    ),
    insertNotice: db.prepare<[string]>(`INSERT INTO webhook_notices (event) VALUES (?)`),
    release: db.prepare<[number, string]>(
      `UPDATE webhook_messages SET next_attempt_ms = ? WHERE id = ? AND status = 'pending'`,
    ),
    releaseAll: db.prepare<[number]>(
      `UPDATE webhook_messages SET claim_owner = NULL, next_attempt_ms = ?
       WHERE status = 'pending' AND claim_owner IS NOT NULL`,
    ),
    replay: db.prepare<[number, number, string]>(
      `UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_ms = ?, updated_ms = ?,
         last_error = NULL
       WHERE id = ? AND NOT (status = 'pending' AND claim_owner IS NOT NULL)`,
    ),
    recover: db.prepare<[number, number, string, number]>(
      `UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_ms = ?, updated_ms = ?,
         last_error = NULL
       WHERE endpoint_id = ? AND status IN ('failed', 'exhausted') AND created_ms >= ?`,
    ),
    message: db.prepare<[string], MessageRow>(`SELECT * FROM webhook_messages WHERE id = ?`),
    messages: db.prepare<[string, string | null, string | null, number, number], MessageRow>(
      `SELECT * FROM webhook_messages
       WHERE endpoint_id = ? AND (? IS NULL OR status = ?) AND seq < ?
       ORDER BY seq DESC LIMIT ?`,
    ),
    attemptsOfMessage: db.prepare<[string, number, number], AttemptRow>(
      `SELECT * FROM webhook_attempts WHERE message_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    ),
    attemptsOfEndpoint: db.prepare<[string, number, number], AttemptRow>(
      `SELECT * FROM webhook_attempts WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    ),
    notices: db.prepare<[number], { id: number; event: string }>(
      `SELECT id, event FROM webhook_notices ORDER BY id LIMIT ?`,
    ),
    forgetNotice: db.prepare<[number]>(`DELETE FROM webhook_notices WHERE id = ?`),
    stats: db.prepare<[], { pending: number; claimed: number | null }>(OUTBOX_COUNTS_SQL),
    pruneAttempts: db.prepare<[number]>(
      `DELETE FROM webhook_attempts WHERE message_id IN
         (SELECT id FROM webhook_messages WHERE status <> 'pending' AND updated_ms < ?)`,
    ),
    pruneMessages: db.prepare<[number]>(
      `DELETE FROM webhook_messages WHERE status <> 'pending' AND updated_ms < ?`,
    ),
  };

  const endpointParams = (endpoint: Endpoint) => ({
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: json(endpoint.eventTypes),
    channels: json(endpoint.channels),
    rate_limit: endpoint.rateLimitPerSecond,
    owner_client_id: endpoint.ownerClientId,
    enabled: endpoint.enabled ? 1 : 0,
    disabled_reason: endpoint.disabledReason,
    disabled_at_ms: endpoint.disabledAtMs,
    failing_since_ms: endpoint.failingSinceMs,
    created_ms: endpoint.createdAtMs,
    updated_ms: endpoint.updatedAtMs,
    selection: endpoint.selection,
  });

  const createTx = db.transaction((endpoint: Endpoint, secret: StoredSecret) => {
    sql.insertEndpoint.run(endpointParams(endpoint));
    sql.insertSecret.run(secret.id, endpoint.id, secret.sealed, secret.createdAtMs, secret.expiresAtMs);
  });

  const updateTx = db.transaction((id: string, changes: EndpointChanges, nowMs: number) => {
    const row = sql.endpoint.get(id);
    if (!row) return undefined;
    const next: Endpoint = { ...toEndpoint(row), updatedAtMs: nowMs };
    // zod's `.partial()` leaves the fields not given undefined: only those given change.
    for (const [key, value] of Object.entries(changes) as [keyof EndpointChanges, unknown][])
      if (value !== undefined) Object.assign(next, { [key]: value });
    sql.updateEndpoint.run(endpointParams(next));
    return next;
  });

  const deleteTx = db.transaction((id: string) => {
    sql.deleteAttempts.run(id);
    sql.deleteMessages.run(id);
    sql.deleteSecrets.run(id);
    return sql.deleteEndpoint.run(id).changes > 0;
  });

  const disableTx = db.transaction(
    (id: string, reason: DisabledReason, nowMs: number, notice: IncomingEvent | undefined) => {
      const changed = sql.disable.run(reason, nowMs, nowMs, id).changes > 0;
      if (changed) {
        sql.failPending.run('endpoint-disabled', nowMs, id);
        if (notice) sql.insertNotice.run(JSON.stringify(notice));
      }
      const row = sql.endpoint.get(id);
      return { endpoint: row ? toEndpoint(row) : undefined, changed };
    },
  );

  const rotateTx = db.transaction(
    (endpointId: string, next: StoredSecret, retireAtMs: number, nowMs: number) => {
      if (!sql.endpoint.get(endpointId)) return false;
      sql.forgetExpiredSecrets.run(endpointId, nowMs);
      sql.retireSecrets.run(retireAtMs, endpointId);
      sql.insertSecret.run(next.id, endpointId, next.sealed, next.createdAtMs, next.expiresAtMs);
      return true;
    },
  );

  const enqueueTx = db.transaction((messages: readonly NewMessage[], cursor: string | undefined) => {
    let added = 0;
    const enabled = new Map<string, boolean>();
    for (const message of messages) {
      let on = enabled.get(message.endpointId);
      if (on === undefined) {
        on = sql.enabledOf.get(message.endpointId)?.enabled === 1;
        enabled.set(message.endpointId, on);
      }
      added += sql.insertMessage.run({
        id: message.id,
        endpoint_id: message.endpointId,
        event_id: message.eventId,
        event_type: message.eventType,
        body: message.body,
        status: on ? 'pending' : 'failed',
        next_attempt_ms: on ? message.createdAtMs : null,
        created_ms: message.createdAtMs,
        last_error: on ? null : 'endpoint-disabled',
        trace: message.trace ? JSON.stringify(message.trace) : null,
      }).changes;
    }
    if (cursor !== undefined) sql.setState.run('follower_cursor', cursor);
    return added;
  });

  const { claims, release: releaseClaimsOfFile } = claimsFor(options.file);
  /** `endpointId`'s due-index entries that no claim holds. */
  const unclaimedOf = <Entry extends { seq: number }>(endpointId: string, entries: Entry[]) =>
    entries.filter((entry) => !claims.holdsRow(endpointId, entry.seq));
  /** Claims up to `max` due messages of one endpoint; the ids it claimed are pushed to `taken`. */
  const claimOne = (endpointId: string, nowMs: number, max: number, taken: string[]): ClaimResult => {
    // Enough entries for `max` unclaimed ones and the one after them, in due order.
    const entries = unclaimedOf(
      endpointId,
      sql.pendingEntries.all(endpointId, max + claims.countOf(endpointId) + 1),
    );
    let count = 0;
    while (count < max && count < entries.length && entries[count]!.due <= nowMs) count += 1;
    const messages: OutboxMessage[] = [];
    for (const { seq } of entries.slice(0, count)) {
      const row = sql.messageAt.get(seq);
      if (!row) continue;
      claims.add(row.id, endpointId, seq);
      taken.push(row.id);
      messages.push(toMessage(row));
    }
    return { messages, nextDueMs: entries[count]?.due ?? null };
  };

  function settleOne(settlement: Settlement): { failingSinceMs: number | null } {
    const { attempt, verdict } = settlement;
    const at = attempt.attemptedAtMs;
    if (verdict.status === 'succeeded') {
      // A 2xx is the truth whatever happened meanwhile (a disable marked it failed): it arrived.
      // The common case, so no look-up first: no row changed means it was deleted meanwhile.
      if (sql.succeed.run(at, attempt.statusCode, settlement.messageId).changes === 0)
        return { failingSinceMs: null };
      sql.insertAttempt.run(attempt);
      sql.streakEnds.run(settlement.endpointId);
      return { failingSinceMs: null };
    }
    // A failing endpoint settles a failure per attempt, in the same transactions as the healthy
    // endpoints' successes: the update first (it changes the row in the common case, so no look-up
    // before it), a look-up only when it changed nothing (stopped or deleted meanwhile).
    const changed =
      verdict.status === 'pending'
        ? sql.retry.run(
            verdict.nextAttemptMs,
            at,
            attempt.statusCode,
            attempt.errorClass,
            settlement.messageId,
          ).changes > 0
        : sql.stop.run(
            verdict.status,
            at,
            attempt.statusCode,
            attempt.errorClass,
            verdict.status === 'failed' ? verdict.reason : null,
            settlement.messageId,
          ).changes > 0;
    // Still recorded when a disable stopped the message meanwhile; not when it was deleted.
    if (!changed && !sql.messageExists.get(settlement.messageId)) return { failingSinceMs: null };
    sql.insertAttempt.run(attempt);
    if (changed && settlement.notice) sql.insertNotice.run(JSON.stringify(settlement.notice));
    // The streak starts with the first failure: one read while it goes on, a write only to start it.
    const row = sql.failingSince.get(settlement.endpointId);
    if (!row) return { failingSinceMs: null };
    if (row.failing_since_ms !== null) return { failingSinceMs: row.failing_since_ms };
    sql.streakGoesOn.run(at, settlement.endpointId);
    return { failingSinceMs: at };
  }
  // A read transaction (nothing is written): the pass's reads share one snapshot and one check of
  // the connection's page cache, instead of one per statement.
  const claimManyReads = db.transaction((requests: readonly ClaimRequest[], nowMs: number, taken: string[]) =>
    requests.map((request) => claimOne(request.endpointId, nowMs, request.max, taken)),
  );
  /** Claims for every request, or for none: a read that failed midway gives back what it took. */
  const claimAll = (requests: readonly ClaimRequest[], nowMs: number): ClaimResult[] => {
    const taken: string[] = [];
    try {
      return claimManyReads(requests, nowMs, taken);
    } catch (error) {
      for (const id of taken) claims.delete(id);
      throw error;
    }
  };

  const settleMany = db.transaction((settlements: Settlement[]) => settlements.map(settleOne));
  const settleSingle = db.transaction(settleOne);
  // Attempts finishing in the same turn (a burst to a fast endpoint) share one transaction. A
  // message stays claimed until its settle is committed: one whose write failed is released by
  // the dispatcher, not claimed again meanwhile.
  const settles = new GroupCommit<Settlement, { failingSinceMs: number | null }>(
    (settlements) => {
      const results = settleMany.immediate(settlements);
      for (const settlement of settlements) claims.delete(settlement.messageId);
      return results;
    },
    (settlement) => {
      const result = settleSingle.immediate(settlement);
      claims.delete(settlement.messageId);
      return result;
    },
  );

  const releaseTx = db.transaction((ids: readonly string[], nowMs: number) => {
    for (const id of ids) sql.release.run(nowMs, id);
  });
  /** Puts back this process's claims among `ids`, due at `nowMs`; returns how many. */
  const releaseClaims = (ids: readonly string[], nowMs: number): number => {
    const claimed = ids.filter((id) => claims.has(id));
    // Nothing of this process's among them (the usual case at open): no write transaction.
    if (claimed.length === 0) return 0;
    releaseTx.immediate(claimed, nowMs);
    for (const id of claimed) claims.delete(id);
    return claimed.length;
  };
  const forgetTx = db.transaction((ids: readonly number[]) => {
    for (const id of ids) sql.forgetNotice.run(id);
  });
  const pruneTx = db.transaction((beforeMs: number) => {
    sql.pruneAttempts.run(beforeMs);
    return sql.pruneMessages.run(beforeMs).changes;
  });

  return {
    kind: 'sqlite',
    async createEndpoint(endpoint, secret) {
      createTx.immediate(endpoint, secret);
    },
    async updateEndpoint(id, changes, nowMs) {
      return updateTx.immediate(id, changes, nowMs);
    },
    async deleteEndpoint(id) {
      return deleteTx.immediate(id);
    },
    async endpoint(id) {
      const row = sql.endpoint.get(id);
      return row ? toEndpoint(row) : undefined;
    },
    async endpoints(filter) {
      const rows =
        filter?.ownerClientId === undefined ? sql.endpoints.all() : sql.endpointsOf.all(filter.ownerClientId);
      return rows.map(toEndpoint);
    },
    async enableEndpoint(id, nowMs) {
      sql.enable.run(nowMs, id);
      const row = sql.endpoint.get(id);
      return row ? toEndpoint(row) : undefined;
    },
    async disableEndpoint(id, reason, nowMs, notice) {
      return disableTx.immediate(id, reason, nowMs, notice);
    },
    async activeSecrets(endpointId, nowMs) {
      return sql.activeSecrets.all(endpointId, nowMs).map(toSecret);
    },
    async rotateSecret(endpointId, next, retireAtMs, nowMs) {
      return rotateTx.immediate(endpointId, next, retireAtMs, nowMs);
    },
    async enqueue(messages, cursor) {
      if (messages.length === 0 && cursor === undefined) return 0;
      return enqueueTx.immediate(messages, cursor);
    },
    async changeVersion() {
      return Number(sql.getState.get('change_version')?.value ?? 0);
    },
    async noteChange() {
      sql.noteChange.run();
    },
    async followerCursor() {
      return sql.getState.get('follower_cursor')?.value;
    },
    // The owner and lease are the shared store's: here a claim lasts until settled or released.
    async claim(endpointId, _owner, nowMs, max) {
      const [claimed] = claimAll([{ endpointId, max }], nowMs);
      return claimed ?? { messages: [], nextDueMs: null };
    },
    async claimMany(requests, _owner, nowMs) {
      if (requests.length === 0) return [];
      return claimAll(requests, nowMs);
    },
    async dueTimes() {
      const due = new Map(sql.dueTimes.all().map((row) => [row.endpoint_id, row.due]));
      // The minimum above counts claimed messages: for an endpoint with claims, read past them.
      for (const endpointId of due.keys()) {
        const skipped = claims.countOf(endpointId);
        if (skipped === 0) continue;
        const [next] = unclaimedOf(endpointId, sql.pendingEntries.all(endpointId, skipped + 1));
        if (next === undefined) due.delete(endpointId);
        else due.set(endpointId, next.due);
      }
      return due;
    },
    settle(settlement) {
      return settles.submit(settlement);
    },
    async release(ids, nowMs) {
      releaseClaims(ids, nowMs);
    },
    async releaseAllClaims(nowMs) {
      // Claims written by a build before claims were held in memory, then this process's own.
      return sql.releaseAll.run(nowMs).changes + releaseClaims(claims.ids(), nowMs);
    },
    async replayMessage(id, nowMs) {
      // A message being attempted right now is left to that attempt.
      if (!claims.has(id)) sql.replay.run(nowMs, nowMs, id);
      const row = sql.message.get(id);
      return row ? toMessage(row) : undefined;
    },
    async recoverEndpoint(endpointId, sinceMs, nowMs) {
      return sql.recover.run(nowMs, nowMs, endpointId, sinceMs).changes;
    },
    async message(id) {
      const row = sql.message.get(id);
      return row ? toMessage(row) : undefined;
    },
    async messages(query) {
      const status = query.status ?? null;
      return sql.messages
        .all(query.endpointId, status, status, query.beforeSeq ?? Number.MAX_SAFE_INTEGER, query.limit)
        .map(toMessage);
    },
    async attempts(query) {
      const before = query.beforeId ?? Number.MAX_SAFE_INTEGER;
      if (query.messageId !== undefined)
        return sql.attemptsOfMessage.all(query.messageId, before, query.limit).map(toAttempt);
      if (query.endpointId !== undefined)
        return sql.attemptsOfEndpoint.all(query.endpointId, before, query.limit).map(toAttempt);
      throw new TypeError('attempts() needs a messageId or an endpointId');
    },
    async pendingNotices(limit) {
      return sql.notices
        .all(limit)
        .map((row) => ({ id: row.id, event: JSON.parse(row.event) as IncomingEvent }));
    },
    async forgetNotices(ids) {
      forgetTx.immediate(ids);
    },
    async stats() {
      const row = sql.stats.get();
      return { pending: row?.pending ?? 0, claimed: (row?.claimed ?? 0) + claims.size };
    },
    async prune(beforeMs) {
      return pruneTx.immediate(beforeMs);
    },
    async close() {
      settles.drain();
      releaseClaimsOfFile();
      if (db.open) db.close();
    },
  };
}
