import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints the embedded data file's write-ahead log on a thread of its own, so no commit on the
 * event loop pays for one.
 *
 * Why: SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages, on
 * the connection that committed, which here is the event loop. `npm run bench:deliveries` (the run
 * with failing endpoints, 20,000 events at 700/s) timed every statement: 581 of the delivery
 * store's 14,800 commits took 2 to 30 ms (10.5 ms on average, 6.1 s in all) because they copied
 * the WAL into the database and flushed it, against 0.17 ms for the others; each one held every
 * webhook ack and delivery waiting behind it. With this thread the slow commits were gone and the
 * commits' time fell from 10.8 to 6.6 s. SQLite documents the move itself: turn the automatic
 * checkpoint off (`wal_autocheckpoint = 0`) and run `wal_checkpoint` from another thread
 * (https://sqlite.org/wal.html#application_initiated_checkpoints). PASSIVE checkpoints never take
 * a lock a writer waits for, so the connections on the event loop never block on this one.
 *
 * One thread per file, shared by every connection to it (event log, deliveries, actions, health
 * history), stopped when the last of them is released. Should the thread fail, the connections
 * still open get their automatic checkpoint back: slower commits, never an unbounded WAL.
 */

/** How often the thread checkpoints what was committed since: small copies, each quick. */
export const CHECKPOINT_INTERVAL_MS = 50;
/**
 * Frames left in the WAL after a checkpoint (writes landed while it copied) make the next one come
 * after this instead: a WAL starts again from its beginning only after a checkpoint copied all of
 * it, so under steady writes it is caught up in short steps.
 */
export const CATCH_UP_MS = 1;
/**
 * Past this many frames (16 MB of 4 KB pages) the WAL is made to start again from its beginning.
 * It does so at the first write after a checkpoint copied all of it, and under steady writes the
 * thread's checkpoints never quite do: frames land while each one copies. A RESTART checkpoint
 * from the thread would hold the writers back while it copies (measured: 86 commits waited 20 ms
 * each in bench:deliveries); instead the thread catches up to within `FINISH_FRAMES` and asks the
 * event loop to copy the rest between two of its writes (one checkpoint of a few frames, two
 * flushes: ~0.5 ms, about once a second at 16 MB/s of writes), after which its next write starts
 * the WAL again.
 */
export const WAL_LIMIT_FRAMES = 4_096;
/** How close the thread gets before the event loop finishes the checkpoint (1 MB). */
export const FINISH_FRAMES = 256;
/** SQLite's default, given back to the connections if the thread fails. */
const AUTOCHECKPOINT_PAGES = 1_000;

/**
 * The thread's code: CommonJS evaluated in the worker (`eval: true`), so it needs no file of its
 * own next to the bundle `npm start` builds; the driver's path comes from the main thread.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true, timeout: 5000 });
let timer;
const step = () => {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  const left = row ? row.log - row.checkpointed : 0;
  if (row && row.log > workerData.limitFrames && left <= workerData.finishFrames) {
    // Steps resume when the event loop has finished it ('finished').
    parentPort.postMessage('finish');
    return;
  }
  timer = setTimeout(step, left > 0 ? workerData.catchUpMs : workerData.intervalMs);
};
timer = setTimeout(step, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'finished') {
    timer = setTimeout(step, workerData.catchUpMs);
    return;
  }
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

interface FileCheckpointer {
  worker: Worker;
  connections: Set<Database.Database>;
  /** Resolves when the thread has closed its connection and exited. */
  exited: Promise<void>;
}

const byFile = new Map<string, FileCheckpointer>();

function giveBackAutocheckpoint(connections: Iterable<Database.Database>): void {
  for (const db of connections) if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
}

function startFor(file: string): FileCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      intervalMs: CHECKPOINT_INTERVAL_MS,
      catchUpMs: CATCH_UP_MS,
      limitFrames: WAL_LIMIT_FRAMES,
      finishFrames: FINISH_FRAMES,
    },
  });
  // Never what keeps a process alive: a process that forgot to close its stores still exits.
  worker.unref();
  const entry: FileCheckpointer = {
    worker,
    connections: new Set(),
    exited: new Promise((resolveExit) => worker.once('exit', () => resolveExit())),
  };
  worker.on('message', (message) => {
    if (message !== 'finish') return;
    // Between two turns of the event loop, so no write of ours is half done; any connection will
    // do, they share the file.
    setImmediate(() => {
      const db = [...entry.connections].find((connection) => connection.open);
      try {
        db?.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // Busy or failed: the thread asks again once it is back within reach.
      }
      worker.postMessage('finished');
    });
  });
  worker.once('error', (error) => {
    if (byFile.get(file) === entry) byFile.delete(file);
    giveBackAutocheckpoint(entry.connections);
    process.emitWarning(
      `the WAL checkpoint thread of ${file} stopped (${error.message}); its connections checkpoint on their own again`,
      { code: 'EVENT_LOG_CHECKPOINTER' },
    );
  });
  return entry;
}

/**
 * Hands `db`'s checkpoints to the file's thread (started with the first connection). `db` must be
 * in WAL mode already. Returns what to call before closing `db`: it stops the thread when `db` was
 * the last connection using it, so the last connection to close is one of the caller's and
 * SQLite's own close-time checkpoint runs as before.
 */
export function checkpointOffThread(file: string, db: Database.Database): () => Promise<void> {
  if (file === ':memory:') return () => Promise.resolve();
  const key = resolve(file);
  let entry = byFile.get(key);
  if (!entry) {
    entry = startFor(key);
    byFile.set(key, entry);
  }
  const attached = entry;
  db.pragma('wal_autocheckpoint = 0');
  attached.connections.add(db);
  return async () => {
    if (!attached.connections.delete(db) || attached.connections.size > 0) return;
    if (byFile.get(key) === attached) byFile.delete(key);
    attached.worker.postMessage('stop');
    await attached.exited;
  };
}
