/**
 * A platform's client, made on first use. Actions and sync destinations sit on the descriptors
 * the gateway reads; importing their connectors (the upstream client, its throttles, breaker and
 * HTTP agent) with them cost every gateway memory for code only the event pipeline and the sync
 * engine run (issue 17, target 2). So an executor or writer imports its connector when it first
 * writes, and closing one that never wrote closes nothing.
 */
export interface OnFirstUse<T> {
  /** The value, made by the first call (one `make` however many calls wait; a failed one is tried again). */
  get(): Promise<T>;
  /** Closes the value if it was made. */
  close(): Promise<void>;
}

export function onFirstUse<T extends { close(): Promise<void> }>(make: () => Promise<T>): OnFirstUse<T> {
  let made: Promise<T> | undefined;
  return {
    get: () =>
      (made ??= make().catch((error: unknown) => {
        made = undefined;
        throw error;
      })),
    async close() {
      if (!made) return;
      const value = await made.catch(() => undefined);
      await value?.close();
    },
  };
}
