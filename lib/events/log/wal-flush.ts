import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { errorCode, EventLogUnavailableError } from './errors.js';

type Sync = (fd: number) => Promise<void>;

const fdatasyncAsync: Sync = promisify(fdatasync);

/**
 * Makes the embedded event log's commits durable without flushing on the event loop: the
 * connection commits at `synchronous = NORMAL` (frames written to the WAL, not flushed) and a
 * write is acknowledged only after `flush()` has had the WAL file flushed to disk by
 * `fdatasync` on libuv's thread pool. That is what `synchronous = FULL` gives in WAL mode (the
 * WAL flushed at every commit, https://sqlite.org/pragma.html#pragma_synchronous), with the
 * flush out of the thread that serves webhooks: FULL's flush ran inside COMMIT, and in
 * `npm run bench:deliveries` the event log's commits held the event loop 3.5 s of a 30 s run
 * (1 ms each, 2,600 of them), and in one run of `npm run bench:webhooks` it acknowledged 2,447 webhooks/s
 * against 1,941-2,210 before, open-loop ack p99 52 against 58-99 ms. Commits landing while a
 * flush runs share the next one (group commit).
 *
 * The WAL file keeps its inode while any connection is open (SQLite deletes it only when the last
 * one closes, and overwrites it from the start after a checkpoint), and the log's own connection
 * stays open until `close`, so the descriptor opened here always names it. A frame's checksum
 * chains to the ones before it, so after a power loss SQLite keeps the commits up to the first
 * frame that did not reach the disk: none acknowledged, since each waited for a flush that started
 * after its commit.
 */
export class WalFlush {
  private readonly fd: number;
  /** The flush running now. */
  private running: Promise<void> | undefined;
  /** The flush queued after it, for commits made while it runs. */
  private queued: Promise<void> | undefined;
  private closed = false;

  /**
   * @param walFile the database's `-wal` file; it must exist (the connection has written).
   * @param sync flushes a descriptor (fdatasync on the thread pool): replaceable for tests.
   */
  constructor(
    walFile: string,
    private readonly sync: Sync = fdatasyncAsync,
  ) {
    this.fd = openSync(walFile, 'r');
  }

  /** Resolves once everything committed before the call is on disk; rejects when it cannot be. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.running) return this.start();
    // The running flush may have started before this commit was written: the next one covers it.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  /** Flushes what is left and closes the descriptor; later flushes resolve at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Flushes asked for while waiting (writes drained at close) are waited for too: the
    // descriptor is never closed under a flush in progress.
    while (this.running || this.queued) await Promise.allSettled([this.running, this.queued]);
    this.closed = true;
    try {
      fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const flushing = this.sync(this.fd).then(
      () => {
        if (this.running === flushing) this.running = undefined;
      },
      (error: unknown) => {
        if (this.running === flushing) this.running = undefined;
        throw new EventLogUnavailableError(
          `The event log could not be flushed to disk (${errorCode(error) ?? 'error'}).`,
        );
      },
    );
    this.running = flushing;
    return flushing;
  }
}
