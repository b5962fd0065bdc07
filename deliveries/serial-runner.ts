/**
 * Runs an async task one at a time: a `run()` while it runs makes it run once more afterwards,
 * however many calls came meanwhile. The dispatcher's claiming, the follower's reading and the
 * relay's emitting are each "catch up with whatever is there now", so calls coalesce; none of
 * them may overlap itself. `task` handles its own errors; `onSettled` is called each time the
 * runner goes idle.
 */
export class SerialRunner {
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onSettled: () => void = () => undefined,
  ) {}

  get busy(): boolean {
    return this.running;
  }

  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      do {
        this.again = false;
        await this.task();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = false;
      this.onSettled();
    });
  }

  /** No more runs; one in progress finishes. */
  stop(): void {
    this.stopped = true;
  }
}
