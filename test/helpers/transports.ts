import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What one operation came back as, the same shape whatever carried it. */
export interface OutcomeError {
  message: string;
  extensions?: Record<string, unknown>;
}

export interface Outcome {
  /** HTTP status (graphql-ws: 200 for a result, 0 for an `error` message). */
  status: number;
  data?: unknown;
  errors?: OutcomeError[];
}

/** `ok`, or the first error's code: what a client branches on. */
export function verdict(outcome: Outcome): string {
  const code = outcome.errors?.[0]?.extensions?.['code'];
  return typeof code === 'string' ? code : 'ok';
}

export interface OperationBody {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Sent as the operation's `extensions` (graphql-ws carries per-operation settings there). */
  extensions?: Record<string, unknown>;
}

/** One operation over HTTP POST. */
export async function overHttp(
  origin: string,
  headers: Record<string, string>,
  body: OperationBody,
): Promise<Outcome> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as Omit<Outcome, 'status'>) };
}

/**
 * One operation over Server-Sent Events (graphql-sse's distinct connections mode): a refusal is an
 * HTTP status with a JSON body, a result is a `next` event followed by `complete`.
 */
export async function overSse(
  origin: string,
  headers: Record<string, string>,
  body: OperationBody,
): Promise<Outcome> {
  const response = await fetch(`${origin}/graphql/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream'))
    return { status: response.status, ...(JSON.parse(text) as Omit<Outcome, 'status'>) };
  const next = /event: next\ndata: (.*)\n/.exec(text)?.[1];
  if (next === undefined) throw new Error(`no result in the event stream: ${text.slice(0, 200)}`);
  return { status: response.status, ...(JSON.parse(next) as Omit<Outcome, 'status'>) };
}

/** A graphql-ws connection that runs operations one at a time and reports each like HTTP would. */
export function wsConnection(origin: string, connectionParams: Record<string, string>) {
  const client: Client = createClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: true,
    retryAttempts: 0,
  });
  return {
    run(body: OperationBody): Promise<Outcome> {
      return new Promise((resolve) => {
        let result: Outcome | undefined;
        client.subscribe(body, {
          next: (value) => {
            result = { status: 200, ...(value as Omit<Outcome, 'status'>) };
          },
          error: (error) =>
            resolve({
              status: 0,
              errors: Array.isArray(error)
                ? (error as OutcomeError[])
                : [
                    {
                      message: String((error as { reason?: string }).reason ?? error),
                      extensions: { closeCode: (error as { code?: number }).code },
                    },
                  ],
            }),
          complete: () => resolve(result ?? { status: 200 }),
        });
      });
    },
    /** Starts a subscription and leaves it open; resolves with its refusal, or undefined once running. */
    open(body: OperationBody, settleMs = 300): Promise<Outcome | undefined> {
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), settleMs);
        client.subscribe(body, {
          next: () => undefined,
          error: (error) => {
            clearTimeout(timer);
            resolve({ status: 0, errors: error as OutcomeError[] });
          },
          complete: () => undefined,
        });
      });
    },
    close: () => client.dispose() as Promise<void>,
  };
}
