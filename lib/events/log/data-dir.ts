import { accessSync, constants, mkdirSync, statSync, type BigIntStats } from 'node:fs';
import { dirname } from 'node:path';
import { errorCode, EventLogOpenError } from './errors.js';

/**
 * The embedded log's directory: checked at open, so a bad one stops start-up with a sentence
 * instead of a raw ENOTDIR from deep inside, and watched while running, because SQLite itself does
 * not notice when it should stop: it keeps writing through the files it has open after the
 * directory turned read-only, or was moved or deleted (and then an acknowledged event would go to
 * a file nobody will ever open again).
 */

const describe = (error: unknown): string => {
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'EROFS') return 'the file system is read-only (EROFS)';
  if (code === 'ENOSPC') return 'the disk is full (ENOSPC)';
  return error instanceof Error ? error.message : String(error);
};

function stat(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/** The closest existing ancestor of `path`: what stopped its creation. */
function closestExisting(path: string): { path: string; stats: BigIntStats } | undefined {
  for (let current = dirname(path); ; current = dirname(current)) {
    const stats = stat(current);
    if (stats) return { path: current, stats };
    if (dirname(current) === current) return undefined;
  }
}

function cannotCreate(dir: string, error: unknown): EventLogOpenError {
  const ancestor = closestExisting(dir);
  const why =
    ancestor && !ancestor.stats.isDirectory()
      ? `${ancestor.path} is a file, not a directory`
      : ancestor && (errorCode(error) === 'EACCES' || errorCode(error) === 'EPERM')
        ? `no permission to create directories in ${ancestor.path} (${errorCode(error)})`
        : describe(error);
  return new EventLogOpenError('data-dir', `cannot create ${dir}: ${why}`, { cause: error });
}

/**
 * Makes sure `file`'s directory exists (creating it when missing), is a directory, and can be
 * written by this process, and that `file`, when it exists, can be written too. Throws
 * EventLogOpenError saying which of these is wrong.
 */
export function prepareDataDir(file: string): void {
  const dir = dirname(file);
  let stats = stat(dir);
  if (!stats) {
    // Missing (ENOENT), or a part of the path is a file (ENOTDIR), which mkdir reports.
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw cannotCreate(dir, error);
    }
    stats = stat(dir);
    if (!stats)
      throw new EventLogOpenError('data-dir', `cannot create ${dir}: it is still missing after creating it`);
  }
  if (!stats.isDirectory()) throw new EventLogOpenError('data-dir', `${dir} is not a directory`);
  for (const [path, what] of [
    [dir, 'directory'],
    [file, 'file'],
  ] as const) {
    if (what === 'file' && !stat(file)) continue;
    try {
      accessSync(path, constants.W_OK | (what === 'directory' ? constants.X_OK : constants.R_OK));
    } catch (error) {
      throw new EventLogOpenError('data-dir', `${path} is not writable by this process: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}

/**
 * Watches the open database file: returns a check that says why the log must not be written now
 * (its directory is not writable, or the file at its path is no longer the one that is open), or
 * undefined when it may. Two system calls: cheap next to the transaction it guards.
 */
export function dataFileGuard(file: string): () => string | undefined {
  const opened = statSync(file, { bigint: true });
  const dir = dirname(file);
  return () => {
    const current = stat(file);
    if (!current || current.ino !== opened.ino || current.dev !== opened.dev)
      return `${file} is no longer the file the gateway opened: it, or its directory, was moved or deleted while the gateway ran`;
    try {
      accessSync(dir, constants.W_OK);
    } catch (error) {
      return `${dir} is not writable any more: ${describe(error)}`;
    }
    return undefined;
  };
}
