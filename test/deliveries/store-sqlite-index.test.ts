import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OUTBOX_COUNTS_SQL as COUNTS,
  PENDING_ENTRIES_SQL,
  openSqliteDeliveryStore,
} from '../../deliveries/store/sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('embedded delivery store: the index of pending messages', () => {
  it("should count and find due messages from the index alone, in its order without a sort, replacing an older file's due index", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delivery-index-'));
    dirs.push(dir);
    const file = join(dir, 'events.db');
    // A file from before: the due index without claim_owner, so counting read every pending row.
    const older = new Database(file);
    older.pragma('journal_mode = WAL');
    older.exec(`CREATE TABLE webhook_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
      endpoint_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, body TEXT NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER, claim_owner TEXT,
      created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, last_status_code INTEGER,
      last_error_class TEXT, last_error TEXT);
      CREATE INDEX webhook_messages_due ON webhook_messages (endpoint_id, next_attempt_ms) WHERE status = 'pending';`);
    expect(older.prepare(`EXPLAIN QUERY PLAN ${COUNTS}`).get()).toMatchObject({
      detail: expect.not.stringContaining('COVERING') as unknown,
    });
    older.close();

    const store = openSqliteDeliveryStore({ file });
    expect(await store.stats()).toEqual({ pending: 0, claimed: 0 });
    const reader = new Database(file, { readonly: true });
    const indexes = reader
      .prepare<[], { name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_messages'`,
      )
      .all()
      .map((row) => row.name);
    expect(indexes).toContain('webhook_messages_unclaimed');
    expect(indexes).not.toContain('webhook_messages_due');
    expect(reader.prepare(`EXPLAIN QUERY PLAN ${COUNTS}`).get()).toMatchObject({
      detail: 'SCAN webhook_messages USING COVERING INDEX webhook_messages_unclaimed',
    });
    // The claim's read: the pending entries in due order, without a row and without a sort.
    expect(
      reader
        .prepare(`EXPLAIN QUERY PLAN ${PENDING_ENTRIES_SQL}`)
        .all('ep', 16)
        .map((row) => (row as { detail: string }).detail),
    ).toEqual([
      'SEARCH webhook_messages USING COVERING INDEX webhook_messages_unclaimed (endpoint_id=? AND claim_owner=?)',
    ]);
    reader.close();
    await store.close();
  });
});
