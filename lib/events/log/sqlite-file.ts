import Database from 'better-sqlite3';
import { prepareDataDir } from './data-dir.js';
import { errorCode, EventLogOpenError } from './errors.js';
import { checkpointOffThread } from './wal-checkpointer.js';

/** Per open connection: what hands its checkpoints back before it closes (`closeSqliteFile`). */
const releases = new WeakMap<Database.Database, () => Promise<void>>();

/**
 * Opens the embedded data file (creating its directory), in WAL mode with the flush level asked
 * for, and runs `check` on it (a schema version, say). Whatever goes wrong becomes an
 * EventLogOpenError naming the file and `role` ("the event log"), never a raw SQLite error. The
 * event log and the webhook deliveries share the file, each on its own connection. The WAL is
 * checkpointed on a thread of its own (wal-checkpointer.ts), never inside a commit on the event
 * loop; close the connection with `closeSqliteFile`.
 */
export function openSqliteFile(options: {
  file: string;
  synchronous: 'full' | 'normal';
  /** How long a write waits for another connection's lock, in ms. */
  busyTimeoutMs: number;
  /** What the file is opened as, for messages: `the event log`. */
  role: string;
  /** Throws EventLogOpenError when the file holds something this build must not read. */
  check?: (db: Database.Database) => void;
}): Database.Database {
  if (options.file !== ':memory:') prepareDataDir(options.file);
  let db: Database.Database | undefined;
  try {
    db = new Database(options.file, { timeout: options.busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    options.check?.(db);
    releases.set(db, checkpointOffThread(options.file, db));
    return db;
  } catch (error) {
    if (db?.open) db.close();
    if (error instanceof EventLogOpenError) throw error;
    // A file that is there but is not a database (SQLITE_NOTADB), or cannot be opened: say which.
    const why = error instanceof Error ? error.message : String(error);
    throw new EventLogOpenError(
      'data-dir',
      `${options.file} cannot be used as ${options.role}: ${why} (${errorCode(error) ?? 'error'})`,
      { cause: error },
    );
  }
}

/** Closes a connection opened by `openSqliteFile` (once; later calls do nothing). */
export async function closeSqliteFile(db: Database.Database): Promise<void> {
  const release = releases.get(db);
  releases.delete(db);
  await release?.();
  if (db.open) db.close();
}
