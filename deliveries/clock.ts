/**
 * Time as the deliveries see it: the retry schedule, Retry-After, rate limits, the overlap of a
 * rotated secret and the five days before a failing endpoint is disabled are all read from here,
 * so a test can run hours of schedule in milliseconds (test/helpers/manual-clock.ts) while the
 * HTTP attempts themselves stay real.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The wall clock; its timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a longer wait is re-armed on the way.
    const MAX = 2_147_483_647;
    let timer: NodeJS.Timeout;
    const arm = (left: number) => {
      timer = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(Math.max(0, left), MAX));
      timer.unref();
    };
    arm(ms);
    return () => clearTimeout(timer);
  },
};
