import type { RequestContext } from '../request-context.js';

/**
 * Settles as `work` does, or rejects with `expired()` once the request's deadline passes, whichever
 * comes first. For a caller waiting on a call it shares with others: the call may go on for them.
 */
export function withinDeadline<T>(ctx: RequestContext, work: Promise<T>, expired: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expired()), Math.max(0, ctx.deadline - Date.now()));
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Reads that concurrent requests share (one listing of a date range for every request asking for
 * it). The read runs under a context whose deadline is the latest of the requests waiting on it,
 * so a client with a short deadline does not cut it short for the others; each request still
 * gives up at its own deadline. A failure is not kept: the next request reads again.
 */
export class SharedReads<T> {
  private readonly reading = new Map<string, { deadlines: number[]; promise: Promise<T> }>();

  constructor(private readonly expired: () => Error) {}

  read(key: string, ctx: RequestContext, read: (shared: RequestContext) => Promise<T>): Promise<T> {
    let entry = this.reading.get(key);
    if (entry) {
      entry.deadlines.push(ctx.deadline);
    } else {
      const deadlines = [ctx.deadline];
      const shared: RequestContext = {
        requestId: ctx.requestId,
        logger: ctx.logger,
        // Read at each call and retry: a request joining later with more time extends the read.
        get deadline() {
          return Math.max(...deadlines);
        },
      };
      const created = {
        deadlines,
        promise: read(shared).finally(() => {
          if (this.reading.get(key) === created) this.reading.delete(key);
        }),
      };
      this.reading.set(key, created);
      entry = created;
    }
    return withinDeadline(ctx, entry.promise, this.expired);
  }
}
