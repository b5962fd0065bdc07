/**
 * Batches writes that arrive in the same turn of the event loop into one call of `write`, so a
 * burst of webhook acks pays for one transaction (one fsync) instead of one each. Work queued
 * while a flush runs goes into the next one. Callers each get their own result, in order.
 */
export class GroupCommit<Input, Output> {
  private queue: { input: Input; resolve: (output: Output) => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;

  /**
   * @param writeAll writes every queued input in one transaction (all or none) and returns one
   *   output per input, in order.
   * @param writeOne writes one input in its own transaction: used when `writeAll` throws, so one
   *   failing input fails only its own caller.
   * @param onGroupFailure told why `writeAll` threw, before the inputs are retried one by one.
   */
  constructor(
    private readonly writeAll: (inputs: Input[]) => Output[],
    private readonly writeOne: (input: Input) => Output,
    private readonly onGroupFailure: (error: unknown, size: number) => void = () => undefined,
  ) {}

  submit(input: Input): Promise<Output> {
    return new Promise<Output>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: it runs after the poll phase, so every request whose
        // bytes arrived in this turn has queued its write by then.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes whatever is queued now (before closing the store), instead of on the next turn. */
  drain(): void {
    if (this.queue.length > 0) this.flush();
  }

  private flush(): void {
    const pending = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (pending.length === 0) return;
    let outputs: Output[];
    try {
      outputs = this.writeAll(pending.map((item) => item.input));
    } catch (error) {
      this.onGroupFailure(error, pending.length);
      for (const item of pending) {
        try {
          item.resolve(this.writeOne(item.input));
        } catch (error) {
          item.reject(error);
        }
      }
      return;
    }
    pending.forEach((item, index) => item.resolve(outputs[index] as Output));
  }
}
