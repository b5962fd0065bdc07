import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Endpoint } from '../../deliveries/endpoint.js';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import { silentLogger } from '../helpers/context.js';
import { incomingEvent } from '../events/log-contract.js';
import { deliveryStoreContract, endpointRecord, newMessage, T0 } from './store-contract.js';

/** `events.db` in a fresh directory, removed when the test finishes. */
function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'events.db');
}

/** A new endpoint, stored with a plain secret. */
async function storedEndpoint(store: DeliveryStore): Promise<Endpoint> {
  const endpoint = endpointRecord();
  await store.createEndpoint(endpoint, {
    id: 'sec_1',
    endpointId: endpoint.id,
    sealed: 'plain:x',
    createdAtMs: 0,
    expiresAtMs: null,
  });
  return endpoint;
}

describe('SQLite delivery store', () => {
  deliveryStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
    const file = join(dir, 'data', 'events.db');
    return {
      open: async () => openDeliveryStore({ kind: 'sqlite', file }),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });

  it('should share the event log’s file without touching its tables or schema version', async () => {
    const file = freshFile();
    const log = openSqliteEventLog({ file, logger: silentLogger });
    const store = openDeliveryStore({ kind: 'sqlite', file });
    const endpoint = await storedEndpoint(store);
    await log.append([incomingEvent()]);
    await store.enqueue([newMessage(endpoint.id, 'e1')], 's1_0000000000000001');
    await store.close();
    await log.close();
    // Both reopen on the same file: the log's version check and the store's agree.
    const log2 = openSqliteEventLog({ file, logger: silentLogger });
    const store2 = openDeliveryStore({ kind: 'sqlite', file });
    expect((await log2.stats()).pending).toBe(1);
    expect(await store2.followerCursor()).toBe('s1_0000000000000001');
    await store2.close();
    await log2.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      const tables = db
        .prepare<[], { name: string }>(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'webhook_%' ORDER BY name`,
        )
        .all()
        .map((row) => row.name);
      expect(tables).toEqual([
        'webhook_attempts',
        'webhook_endpoints',
        'webhook_messages',
        'webhook_notices',
        'webhook_secrets',
        'webhook_state',
      ]);
    } finally {
      db.close();
    }
  });

  it('should refuse a file whose delivery tables are of another version, saying so', async () => {
    const file = freshFile();
    await openDeliveryStore({ kind: 'sqlite', file }).close();
    const db = new Database(file);
    db.prepare(`UPDATE webhook_state SET value = '9' WHERE key = 'schema_version'`).run();
    db.close();
    expect(() => openDeliveryStore({ kind: 'sqlite', file })).toThrow(
      /version 9; this build reads version 2/,
    );
  });

  it('should open a version 1 file, adding the selection column and keeping its endpoints', async () => {
    const file = freshFile();
    const store = openDeliveryStore({ kind: 'sqlite', file });
    const endpoint = await storedEndpoint(store);
    await store.close();
    // What version 1 wrote: no selection column.
    const db = new Database(file);
    db.exec(`ALTER TABLE webhook_endpoints DROP COLUMN selection`);
    db.prepare(`UPDATE webhook_state SET value = '1' WHERE key = 'schema_version'`).run();
    db.close();
    const reopened = openDeliveryStore({ kind: 'sqlite', file });
    expect(await reopened.endpoint(endpoint.id)).toEqual(endpoint);
    await reopened.updateEndpoint(endpoint.id, { selection: 'customer { id }' }, 1);
    expect((await reopened.endpoint(endpoint.id))?.selection).toBe('customer { id }');
    await reopened.close();
  });

  it('should claim without writing to the file, and share the claims with every store of the process on that file', async () => {
    const file = freshFile();
    const dispatching = openDeliveryStore({ kind: 'sqlite', file });
    const managing = openDeliveryStore({ kind: 'sqlite', file });
    const endpoint = await storedEndpoint(dispatching);
    const first = newMessage(endpoint.id, 'e1');
    await dispatching.enqueue([first, newMessage(endpoint.id, 'e2')]);
    // data_version moves when another connection commits: a claim commits nothing.
    const watcher = new Database(file, { readonly: true });
    const version = () => watcher.pragma('data_version', { simple: true });
    const before = version();
    const claimed = await dispatching.claimMany([{ endpointId: endpoint.id, max: 1 }], 'd', T0, T0 + 1_000);
    expect(claimed[0]?.messages.map((m) => m.id)).toEqual([first.id]);
    expect(version()).toBe(before);
    // The management API's store sees the claim: the next claim skips it, a replay leaves it.
    expect(await managing.stats()).toEqual({ pending: 2, claimed: 1 });
    const atClaim = await managing.message(first.id);
    expect(await managing.replayMessage(first.id, T0 + 500)).toEqual(atClaim);
    const next = await managing.claim(endpoint.id, 'm', T0, 5, T0 + 1_000);
    expect(next.messages.map((m) => m.eventId)).toEqual(['e2']);
    // Released, the message is due at the release time.
    await dispatching.release([first.id], T0 + 10);
    expect(await managing.message(first.id)).toMatchObject({ status: 'pending', nextAttemptMs: T0 + 10 });
    expect(await managing.stats()).toEqual({ pending: 2, claimed: 1 });
    watcher.close();
    await managing.close();
    await dispatching.close();
  });

  it('should release claims an older build wrote to the file', async () => {
    const file = freshFile();
    const store = openDeliveryStore({ kind: 'sqlite', file });
    const endpoint = await storedEndpoint(store);
    await store.enqueue([newMessage(endpoint.id, 'e1')]);
    await store.close();
    // How a build that wrote claims left a message in flight: its owner and its lease end.
    const db = new Database(file);
    db.prepare(`UPDATE webhook_messages SET claim_owner = 'gone', next_attempt_ms = ?`).run(T0 + 120_000);
    db.close();
    const reopened = openDeliveryStore({ kind: 'sqlite', file });
    expect(await reopened.stats()).toEqual({ pending: 1, claimed: 1 });
    expect((await reopened.claim(endpoint.id, 'd', T0, 5, T0 + 1_000)).messages).toEqual([]);
    expect(await reopened.releaseAllClaims(T0 + 5)).toBe(1);
    const claimed = await reopened.claim(endpoint.id, 'd', T0 + 5, 5, T0 + 1_000);
    expect(claimed.messages.map((m) => m.eventId)).toEqual(['e1']);
    await reopened.close();
  });
});
