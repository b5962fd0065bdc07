import autocannon from 'autocannon';

/** What one load run measured. */
export interface LoadRun {
  seconds: number;
  /** Responses received (right or wrong). */
  responses: number;
  /** Responses that were not HTTP 200 with exactly the expected data. */
  wrong: number;
  /** Connection errors and timeouts (no response at all). */
  failed: number;
  /** Latency of every response, ms. */
  latencies: number[];
  /** A sample of a wrong response, for the report. */
  sample?: string;
}

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  /** The request body; with several, each connection sends its own one (round robin). */
  bodies: readonly [string, ...string[]];
  connections: number;
  seconds: number;
  /** Whether a response body is the right answer. */
  check(body: string): boolean;
}

/**
 * Closed-loop load with autocannon: `connections` keep-alive connections, each sending the next
 * request as soon as the previous answer is in, for a fixed time. Every body is checked.
 */
export function runLoad(options: LoadOptions): Promise<LoadRun> {
  const latencies: number[] = [];
  let responses = 0;
  let wrong = 0;
  let sample: string | undefined;
  let next = 0;
  const bodyOf = new WeakMap<object, string>();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        connections: options.connections,
        duration: options.seconds,
        timeout: 30,
        headers: { 'content-type': 'application/json', ...options.headers },
        requests: [
          {
            method: 'POST',
            body: options.bodies[0],
            // Each connection keeps one body; the context object is per connection.
            setupRequest: (request, context) => {
              let body = bodyOf.get(context);
              if (body === undefined) {
                body = options.bodies[next++ % options.bodies.length] ?? options.bodies[0];
                bodyOf.set(context, body);
              }
              return { ...request, body };
            },
            onResponse: (status, body) => {
              responses++;
              if (status !== 200 || !options.check(body)) {
                wrong++;
                sample ??= `HTTP ${status}: ${body.slice(0, 600)}`;
              }
            },
          },
        ],
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        resolve({
          seconds: result.duration,
          responses,
          wrong,
          failed: result.errors + result.timeouts,
          latencies,
          ...(sample !== undefined ? { sample } : {}),
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
    });
  });
}
