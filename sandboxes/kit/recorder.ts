import type { Route } from './types.js';

/**
 * What a sandbox received on the routes that change a platform's state (`Route.write`), so tests
 * and benchmarks can assert the exact requests a client sent: method, path, query and body, with
 * the status it was answered. Credentials are never recorded (no headers are kept).
 */
export interface RecordedRequest {
  /** 1, 2, 3… in arrival order; `?after=` resumes from one. */
  seq: number;
  /** ISO instant the request arrived. */
  at: string;
  method: string;
  path: string;
  /** The route pattern: `POST /3.0/lists/{listId}`. */
  endpoint: string;
  query: Record<string, string | string[]>;
  /** The body as parsed JSON, or its text when it was not JSON; null when there was none. */
  body: unknown;
  /** What the sandbox answered: 2xx, the platform's 4xx, or 429 when a limit refused it. */
  status: number;
}

export interface RecorderLimits {
  /** Requests kept; the oldest are dropped past it. @default 5000 */
  maxRequests?: number;
  /** Body bytes kept over every request (a 500-member batch is ~100 KB). @default 32 MiB */
  maxBodyBytes?: number;
}

function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}

/** A bounded log of the write requests one sandbox received, oldest dropped first. */
export class RequestRecorder {
  private entries: { request: RecordedRequest; bytes: number }[] = [];
  private bytes = 0;
  private seq = 0;
  private dropped = 0;
  private readonly maxRequests: number;
  private readonly maxBodyBytes: number;

  constructor(limits: RecorderLimits = {}) {
    this.maxRequests = limits.maxRequests ?? 5_000;
    this.maxBodyBytes = limits.maxBodyBytes ?? 32 * 1024 * 1024;
  }

  record(
    request: { method: string; path: string; endpoint: string; query: URLSearchParams; rawBody: Buffer },
    json: unknown,
    status: number,
  ): void {
    const text = request.rawBody.toString('utf8');
    const body = json !== undefined ? json : text.length > 0 ? text : null;
    this.seq += 1;
    this.entries.push({
      request: {
        seq: this.seq,
        at: new Date().toISOString(),
        method: request.method,
        path: request.path,
        endpoint: request.endpoint,
        query: queryObject(request.query),
        body,
        status,
      },
      bytes: request.rawBody.length,
    });
    this.bytes += request.rawBody.length;
    while (
      this.entries.length > 1 &&
      (this.entries.length > this.maxRequests || this.bytes > this.maxBodyBytes)
    ) {
      const oldest = this.entries.shift();
      this.bytes -= oldest?.bytes ?? 0;
      this.dropped += 1;
    }
  }

  /** The requests kept, oldest first, narrowed to one endpoint and to those after a `seq`. */
  list(filter: { endpoint?: string; after?: number } = {}): RecordedRequest[] {
    return this.entries
      .map((e) => e.request)
      .filter(
        (r) =>
          (filter.endpoint === undefined || r.endpoint === filter.endpoint) &&
          (filter.after === undefined || r.seq > filter.after),
      );
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
    this.dropped = 0;
  }

  /**
   * `GET /__sandbox/requests[?endpoint=POST /3.0/lists/{listId}][&after=<seq>]` lists what was
   * received (`dropped` counts the oldest let go to stay within the limits);
   * `DELETE /__sandbox/requests` forgets them.
   */
  adminRoutes(): Route[] {
    return [
      {
        method: 'GET',
        path: '/__sandbox/requests',
        handle: (request) => {
          const endpoint = request.query.get('endpoint') ?? undefined;
          const afterText = request.query.get('after');
          const after = afterText === null ? undefined : Number(afterText);
          if (after !== undefined && !Number.isInteger(after)) {
            return {
              status: 400,
              json: {
                code: 'INVALID_QUERY',
                error: '`after` must be the integer seq of a recorded request.',
              },
            };
          }
          const requests = this.list({
            ...(endpoint ? { endpoint } : {}),
            ...(after !== undefined ? { after } : {}),
          });
          return { status: 200, json: { requests, total: this.seq, dropped: this.dropped } };
        },
      },
      {
        method: 'DELETE',
        path: '/__sandbox/requests',
        handle: () => {
          this.clear();
          return { status: 200, json: { requests: [], total: this.seq, dropped: 0 } };
        },
      },
    ];
  }
}
