/** An input waiting for its group's write, and how to answer the caller that submitted it. */
export interface Queued<Input, Output> {
  input: Input;
  resolve: (output: Output) => void;
  reject: (error: unknown) => void;
}

/**
 * The batching head of GroupCommit (SQLite) and AsyncGroupCommit (Redis): what is submitted in one
 * turn of the event loop is handed to `flush` together, once; what is submitted while `flush` runs
 * goes to the next turn's. How a group is written and its callers answered is the caller's.
 */
export class TurnQueue<Input, Output> {
  private queue: Queued<Input, Output>[] = [];
  private scheduled = false;

  constructor(private readonly flush: (pending: Queued<Input, Output>[]) => void) {}

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: it runs after the poll phase, so every request whose
        // bytes arrived in this turn has queued its write by then.
        setImmediate(() => this.flushNow());
      }
    });
  }

  /** Hands what is queued now to `flush` (nothing when the queue is empty), instead of on the next turn. */
  flushNow(): void {
    const pending = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (pending.length > 0) this.flush(pending);
  }
}
