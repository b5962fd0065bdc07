import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Result<T = Record<string, unknown>> {
  data?: T | null;
  errors?: readonly {
    message: string;
    path?: readonly (string | number)[];
    extensions?: Record<string, unknown>;
  }[];
}

/**
 * What a real client receives on one subscription: results in arrival order, waited for by count,
 * and the terminal error (a refusal) if any.
 */
export class Received<T = Record<string, unknown>> {
  readonly results: Result<T>[] = [];
  error: unknown;
  completed = false;
  private waiters: (() => void)[] = [];

  push(result: Result<T>): void {
    this.results.push(result);
    this.notify();
  }

  fail(error: unknown): void {
    this.error = error;
    this.notify();
  }

  complete(): void {
    this.completed = true;
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `count` results arrived; rejects after `timeoutMs` saying how many did. */
  async atLeast(count: number, timeoutMs = 10_000): Promise<Result<T>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.results.length < count) {
      if (this.error !== undefined) throw new Error(`the subscription failed: ${JSON.stringify(this.error)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`waited ${timeoutMs} ms for ${count} results, got ${this.results.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.results.slice(0, count);
  }

  /** Resolves when the subscription ends with an error or completes. */
  async ended(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.error === undefined && !this.completed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the subscription did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export interface Subscriber<T> {
  received: Received<T>;
  /** Resolves once the server has the subscription (for graphql-ws: after `connection_ack`). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** A graphql-ws client on the gateway's `/graphql`, authenticated with `connectionParams`. */
export function subscribeWs<T = Record<string, unknown>>(
  gatewayOrigin: string,
  connectionParams: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Subscriber<T> {
  const received = new Received<T>();
  let acknowledged: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    acknowledged = resolve;
  });
  const client: Client = createWsClient({
    url: `${gatewayOrigin.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    on: { connected: () => acknowledged() },
    onNonLazyError: (error) => received.fail(error),
  });
  client.subscribe<T>(
    { query, variables },
    {
      next: (value) => received.push(value as Result<T>),
      error: (error) => received.fail(error),
      complete: () => received.complete(),
    },
  );
  // The subscribe message follows connection_ack at once; a short pause lets the server register it.
  const registered = ready.then(() => new Promise<void>((resolve) => setTimeout(resolve, 150)));
  return { received, ready: registered, close: () => client.dispose() as Promise<void> };
}

/** A graphql-sse client (distinct connections mode) on `/graphql/stream`, authenticated with headers. */
export function subscribeSse<T = Record<string, unknown>>(
  gatewayOrigin: string,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Subscriber<T> {
  const received = new Received<T>();
  const client = createSseClient({
    url: `${gatewayOrigin}/graphql/stream`,
    headers,
    singleConnection: false,
    retryAttempts: 0,
  });
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => received.push(value as Result<T>),
      error: (error) => received.fail(error),
      complete: () => received.complete(),
    },
  );
  const ready = new Promise<void>((resolve) => setTimeout(resolve, 300));
  return {
    received,
    ready,
    close: async () => {
      unsubscribe();
      client.dispose();
    },
  };
}
