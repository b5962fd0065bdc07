import { TurnQueue, type Queued } from './turn-queue.js';

/**
 * Batches writes that arrive in the same turn of the event loop into one call of `write`, so a
 * burst of webhook acks pays for one transaction (one fsync) instead of one each. Work queued
 * while a flush runs goes into the next one. Callers each get their own result, in order.
 */
export class GroupCommit<Input, Output> {
  private readonly turns = new TurnQueue<Input, Output>((pending) => this.flush(pending));

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
    return this.turns.submit(input);
  }

  /** Writes whatever is queued now (before closing the store), instead of on the next turn. */
  drain(): void {
    this.turns.flushNow();
  }

  private flush(pending: Queued<Input, Output>[]): void {
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
