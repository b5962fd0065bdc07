import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openEventLog } from '../../lib/events/log/open.js';
import { openSqliteEventLog } from '../../lib/events/log/sqlite.js';
import { silentLogger } from '../helpers/context.js';
import { eventLogContract, incomingEvent } from './log-contract.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mg-event-log-'));
}

describe('SQLite event log', () => {
  eventLogContract(async () => {
    const dir = tempDir();
    const file = join(dir, 'data', 'events.db');
    return {
      open: async () => openEventLog({ kind: 'sqlite', file }, silentLogger),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });

  it('should create its data directory and keep the file in WAL mode', async () => {
    const dir = tempDir();
    const file = join(dir, 'nested', 'deeper', 'events.db');
    try {
      const log = await openEventLog({ kind: 'sqlite', file, synchronous: 'normal' }, silentLogger);
      expect(log.kind).toBe('sqlite');
      await log.append([incomingEvent()]);
      await log.close();
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.prepare('SELECT count(*) AS n FROM inbox').get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should write what is still queued when closed in the same tick as an append', async () => {
    const dir = tempDir();
    const file = join(dir, 'events.db');
    try {
      const log = openSqliteEventLog({ file, logger: silentLogger });
      const appended = log.append([incomingEvent(), incomingEvent()]);
      await log.close();
      expect((await appended).stored).toHaveLength(2);
      const reopened = openSqliteEventLog({ file, logger: silentLogger });
      expect((await reopened.stats()).pending).toBe(2);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should hand events claimed by a crashed process out again as soon as the log reopens', async () => {
    const dir = tempDir();
    const file = join(dir, 'events.db');
    try {
      const crashed = openSqliteEventLog({ file, logger: silentLogger });
      const { stored } = await crashed.append([incomingEvent(), incomingEvent()]);
      // Claimed for an hour, then the process dies: nobody will complete these claims.
      expect(await crashed.claim('dead-process', 10, 3_600_000)).toHaveLength(2);
      await crashed.close();
      const restarted = openSqliteEventLog({ file, logger: silentLogger });
      try {
        const reclaimed = await restarted.claim('new-process', 10, 30_000);
        expect(reclaimed.map((event) => event.id)).toEqual(stored.map((event) => event.id));
      } finally {
        await restarted.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should refuse a file written by a newer schema version instead of misreading it', async () => {
    const dir = tempDir();
    const file = join(dir, 'events.db');
    try {
      const db = new Database(file);
      db.pragma('user_version = 99');
      db.close();
      expect(() => openSqliteEventLog({ file, logger: silentLogger })).toThrow(/schema version 99/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
