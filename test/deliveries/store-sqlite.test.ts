import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import { silentLogger } from '../helpers/context.js';
import { incomingEvent } from '../events/log-contract.js';
import { deliveryStoreContract, endpointRecord, newMessage } from './store-contract.js';

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
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
    const file = join(dir, 'events.db');
    try {
      const log = openSqliteEventLog({ file, logger: silentLogger });
      const store = openDeliveryStore({ kind: 'sqlite', file });
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, {
        id: 'sec_1',
        endpointId: endpoint.id,
        sealed: 'plain:x',
        createdAtMs: 0,
        expiresAtMs: null,
      });
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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should refuse a file whose delivery tables are of another version, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
    const file = join(dir, 'events.db');
    try {
      await openDeliveryStore({ kind: 'sqlite', file }).close();
      const db = new Database(file);
      db.prepare(`UPDATE webhook_state SET value = '9' WHERE key = 'schema_version'`).run();
      db.close();
      expect(() => openDeliveryStore({ kind: 'sqlite', file })).toThrow(
        /version 9; this build reads version 2/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should open a version 1 file, adding the selection column and keeping its endpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-deliveries-'));
    const file = join(dir, 'events.db');
    try {
      const store = openDeliveryStore({ kind: 'sqlite', file });
      const endpoint = endpointRecord();
      await store.createEndpoint(endpoint, {
        id: 'sec_1',
        endpointId: endpoint.id,
        sealed: 'plain:x',
        createdAtMs: 0,
        expiresAtMs: null,
      });
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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
