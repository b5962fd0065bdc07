import { TurnQueue, type Queued } from './turn-queue.js';

/**
 * GroupCommit for a store written over the network (Redis): the writes submitted in one turn of
 * the event loop go out as one call of `writeAll`, so a burst of webhook acks costs one script
 * run in Redis instead of one each. Unlike the SQLite GroupCommit the write is async, so the next
 * group may be sent while one is in flight (they are pipelined on the connection); a group holds
 * at most `maxGroup` inputs, so one script never blocks Redis for long.
 */
export class AsyncGroupCommit<Input, Output> {
  private readonly turns = new TurnQueue<Input, Output>((pending) => this.flush(pending));

  /**
   * @param writeAll writes the inputs together (all or none) and returns one output per input, in order.
   * @param writeOne writes one input alone: used when `writeAll` rejects, so one bad input fails
   *   only its own caller (a lost connection fails them all, one by one).
   */
  constructor(
    private readonly writeAll: (inputs: Input[]) => Promise<Output[]>,
    private readonly writeOne: (input: Input) => Promise<Output>,
    private readonly maxGroup = 256,
  ) {}

  submit(input: Input): Promise<Output> {
    return this.turns.submit(input);
  }

  private flush(pending: Queued<Input, Output>[]): void {
    for (let start = 0; start < pending.length; start += this.maxGroup)
      void this.write(pending.slice(start, start + this.maxGroup));
  }

  private async write(group: Queued<Input, Output>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      if (only) await this.writeOne(only.input).then(only.resolve, only.reject);
      return;
    }
    let outputs: Output[];
    try {
      outputs = await this.writeAll(group.map((item) => item.input));
    } catch {
      await Promise.all(group.map((item) => this.writeOne(item.input).then(item.resolve, item.reject)));
      return;
    }
    group.forEach((item, index) => item.resolve(outputs[index] as Output));
  }
}
