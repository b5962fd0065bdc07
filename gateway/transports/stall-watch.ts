/**
 * Notices a client that stopped reading. graphql-ws and graphql-sse wait for each write to reach
 * the kernel before sending the next event, so a paused client costs no socket memory: its
 * events wait in the hub instead (bounded there). What shows the pause is a write that does not
 * finish: once one has been pending for `stallMs`, `onStall` runs once.
 */
export class StallWatch {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private stalled = false;

  constructor(
    private readonly stallMs: number,
    private readonly onStall: () => void,
  ) {}

  /** Marks a write as started; call the returned function when it finished. */
  writing(): () => void {
    this.pending += 1;
    if (this.pending === 1 && !this.stalled) {
      this.timer = setTimeout(() => {
        this.stalled = true;
        this.onStall();
      }, this.stallMs);
      this.timer.unref();
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.pending -= 1;
      if (this.pending === 0) clearTimeout(this.timer);
    };
  }

  get hasStalled(): boolean {
    return this.stalled;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** How long one write may wait for a client that does not read. @default 10000 */
export const DEFAULT_STALL_MS = 10_000;
