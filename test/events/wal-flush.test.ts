import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLogUnavailableError } from '../../lib/events/log/errors.js';
import { WalFlush } from '../../lib/events/log/wal-flush.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function walFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wal-flush-'));
  dirs.push(dir);
  const file = join(dir, 'events.db-wal');
  writeFileSync(file, 'frames');
  return file;
}

/** A flush the test finishes when it wants, recording when each started. */
function controlledSync() {
  const started: { finish: (error?: Error) => void }[] = [];
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      started.push({ finish: (error) => (error ? reject(error) : resolve()) });
    });
  return { sync, started };
}

describe('WAL flush off the event loop', () => {
  it('should answer a commit made during a flush only after a flush that started after it, one for all of them', async () => {
    const { sync, started } = controlledSync();
    const flush = new WalFlush(walFile(), sync);
    const answered: string[] = [];
    const first = flush.flush().then(() => answered.push('first'));
    // Two commits while the first flush runs: it may have started before they were written.
    const second = flush.flush().then(() => answered.push('second'));
    const third = flush.flush().then(() => answered.push('third'));
    expect(started).toHaveLength(1);
    started[0]?.finish();
    await first;
    expect(answered).toEqual(['first']);
    await new Promise((resolve) => setImmediate(resolve));
    // One more flush for both, started after the first finished.
    expect(started).toHaveLength(2);
    expect(answered).toEqual(['first']);
    started[1]?.finish();
    await Promise.all([second, third]);
    expect(answered).toEqual(['first', 'second', 'third']);
    await flush.close();
  });

  it('should refuse the writes of a failed flush with a clear error, and flush again for the next', async () => {
    const { sync, started } = controlledSync();
    const flush = new WalFlush(walFile(), sync);
    const failed = flush.flush();
    started[0]?.finish(Object.assign(new Error('I/O error'), { code: 'EIO' }));
    await expect(failed).rejects.toThrow(EventLogUnavailableError);
    await expect(failed).rejects.toThrow('The event log could not be flushed to disk (EIO).');
    const next = flush.flush();
    expect(started).toHaveLength(2);
    started[1]?.finish();
    await expect(next).resolves.toBeUndefined();
    await flush.close();
  });

  it('should flush with the real fdatasync, and wait at close for a flush still running', async () => {
    const flush = new WalFlush(walFile());
    await expect(flush.flush()).resolves.toBeUndefined();
    const running = flush.flush();
    await flush.close();
    await expect(running).resolves.toBeUndefined();
    await expect(flush.flush()).resolves.toBeUndefined();
  });
});
