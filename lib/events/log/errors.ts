/**
 * The event log could not be opened because of where it was told to live: the data directory of
 * the embedded log, or the Redis of the distributed one. The message says what is wrong (for
 * Redis, a phrase following "the event log": `cannot connect to Redis: ...`), never with a Redis
 * URL, which may hold a password; the caller names the setting it came from (`DATA_DIR`,
 * `REDIS_URL`), which the log does not know.
 */
export class EventLogOpenError extends Error {
  constructor(
    readonly setting: 'data-dir' | 'redis',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventLogOpenError';
  }
}

/**
 * An open log that cannot take writes right now (its data directory turned read-only or was
 * replaced): the write is refused, and a webhook is answered 503 so the platform redelivers.
 */
export class EventLogUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventLogUnavailableError';
  }
}

/** `ENOENT`, `EACCES`, ... of a Node system error, when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}
