import Database from 'better-sqlite3';
import { prepareDataDir } from './data-dir.js';
import { errorCode, EventLogOpenError } from './errors.js';

/**
 * Opens the embedded data file (creating its directory), in WAL mode with the flush level asked
 * for, and runs `check` on it (a schema version, say). Whatever goes wrong becomes an
 * EventLogOpenError naming the file and `role` ("the event log"), never a raw SQLite error. The
 * event log and the webhook deliveries share the file, each on its own connection.
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
