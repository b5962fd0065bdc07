import type { ServerResponse } from 'node:http';
import type { FormattedExecutionResult } from 'graphql';
import { print } from 'graphql-sse';
import { ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { StallWatch } from './stall-watch.js';

const tooSlow = {
  message:
    'This stream was ended because its client stopped reading; subscribe again with `after` set to the last cursor received.',
  extensions: { code: ErrorCode.SUBSCRIBER_TOO_SLOW },
};

type WriteCallback = (error?: Error | null) => void;

/**
 * Backpressure for one SSE response. graphql-sse pulls results as fast as they come and queues
 * them without bound in front of a write that waits for the kernel, so a client that stopped
 * reading would grow the gateway's memory there, out of sight. This hands graphql-sse the next
 * result only once the previous one is written (seen by wrapping `res.write`), like graphql-ws,
 * and ends the stream once a write has waited `stallMs`: a last error event and `complete` queue
 * behind the backlog, so a client that catches up reads why; one that never does is cut off 30 s
 * later, as ws does.
 */
export class SseBackpressure {
  private queued = 0;
  private written = 0;
  private ended = false;
  private readonly stalls: StallWatch;
  private readonly write: (chunk: string, callback: WriteCallback) => boolean;
  private stop: () => void = () => undefined;

  constructor(
    private readonly res: ServerResponse,
    options: { stallMs: number; logger: Logger },
  ) {
    this.stalls = new StallWatch(options.stallMs, () => this.end(options.logger));
    const original = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    this.write = (chunk, callback) => original(chunk, callback);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      const callback = rest.find((arg): arg is WriteCallback => typeof arg === 'function');
      const encoding = rest.find((arg) => typeof arg === 'string');
      const done = this.stalls.writing();
      const isEvent = typeof chunk === 'string' && chunk.startsWith('event: next');
      return original(chunk, ...(encoding ? [encoding] : []), (error?: Error | null) => {
        done();
        if (isEvent) this.written += 1;
        this.waiting?.();
        callback?.(error);
      });
    }) as typeof res.write;
    res.once('close', () => this.stalls.stop());
  }

  /** The stream's results, one at a time as the client's socket takes them. */
  async *follow(
    stream: AsyncGenerator<FormattedExecutionResult>,
    stop: () => void,
  ): AsyncGenerator<FormattedExecutionResult> {
    this.stop = stop;
    for await (const result of stream) {
      if (this.ended) return;
      this.queued += 1;
      yield result;
      // Pull the next result only once this one is written: what a slow client owes then waits
      // in the hub, which bounds it, instead of in graphql-sse's queue, which does not.
      await this.writtenUpTo(this.queued);
    }
  }

  private waiting: (() => void) | undefined;

  private writtenUpTo(count: number): Promise<void> {
    if (this.written >= count || this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting = () => {
        if (this.written >= count || this.ended) {
          this.waiting = undefined;
          resolve();
        }
      };
    });
  }

  private end(logger: Logger): void {
    if (this.ended) return;
    this.ended = true;
    this.waiting?.();
    logger.warn(
      { bufferedBytes: this.res.writableLength },
      'ending an SSE stream whose client stopped reading',
    );
    this.stop();
    // graphql-sse types `data` with GraphQLError instances; the wire form is this plain object.
    this.write(print({ event: 'next', data: { errors: [tooSlow] } as never }), () => undefined);
    this.res.end(print({ event: 'complete', data: null }));
    const abandon = setTimeout(() => this.res.destroy(), 30_000);
    abandon.unref();
    this.res.once('close', () => clearTimeout(abandon));
  }
}
