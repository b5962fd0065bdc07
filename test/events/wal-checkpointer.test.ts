import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { closeSqliteFile, openSqliteFile } from '../../lib/events/log/sqlite-file.js';
import { checkpointOffThread, WAL_LIMIT_FRAMES } from '../../lib/events/log/wal-checkpointer.js';

const dirs: string[] = [];
function dataFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wal-checkpointer-'));
  dirs.push(dir);
  return join(dir, 'events.db');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const open = (file: string) =>
  openSqliteFile({ file, synchronous: 'normal', busyTimeoutMs: 5_000, role: 'the test file' });
const walSize = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe('WAL checkpoints off the event loop', () => {
  it('should leave the connections no checkpoint of their own and still keep the WAL small under writes', async () => {
    const file = dataFile();
    const db = open(file);
    const other = open(file);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(other.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    db.exec('CREATE TABLE rows (body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
    const write = db.transaction((count: number) => {
      for (let i = 0; i < count; i++) insert.run('x'.repeat(1_000));
    });
    // 80 MB in 800 commits, a turn of the event loop between them, faster than a busy store writes.
    // With no checkpoint at all the WAL would hold every one of them (over 90 MB).
    let largest = 0;
    for (let commit = 0; commit < 800; commit++) {
      write(100);
      largest = Math.max(largest, walSize(file));
      await sleep(1);
    }
    expect(largest).toBeGreaterThan(0);
    // The limit, plus what commits add while the thread's checkpoint runs (~4 MB when the machine
    // is quiet; the margin is for a busy one).
    expect(largest).toBeLessThan(WAL_LIMIT_FRAMES * 4_096 + 24 * 1024 * 1024);
    expect(db.prepare('SELECT count(*) AS n FROM rows').get()).toEqual({ n: 80_000 });
    await closeSqliteFile(other);
    await closeSqliteFile(db);
  });

  it("should stop with the file's last connection, whose close then checkpoints and removes the WAL", async () => {
    const file = dataFile();
    const first = open(file);
    const second = open(file);
    first.exec('CREATE TABLE kept (n INTEGER)');
    first.prepare('INSERT INTO kept (n) VALUES (?)').run(7);
    await closeSqliteFile(first);
    expect(existsSync(`${file}-wal`)).toBe(true);
    await closeSqliteFile(second);
    expect(existsSync(`${file}-wal`)).toBe(false);
    await closeSqliteFile(second);
    const reopened = new Database(file, { readonly: true });
    expect(reopened.prepare('SELECT n FROM kept').all()).toEqual([{ n: 7 }]);
    reopened.close();
  });

  it('should give the connections their automatic checkpoint back when the thread fails, with a warning', async () => {
    const file = dataFile();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      // The thread opens the file it is given, which must exist: this one does not.
      const release = checkpointOffThread(join(file, '..', 'missing.db'), db);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      await expect.poll(() => db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
      await expect
        .poll(() => warnings.map((warning) => (warning as { code?: string }).code))
        .toContain('EVENT_LOG_CHECKPOINTER');
      await release();
    } finally {
      process.off('warning', onWarning);
      db.close();
    }
  });
});
