/** How many subscriptions may be open at once. */
export interface SubscriptionCaps {
  /** On one graphql-ws connection. @default 20 */
  perConnection: number;
  /** For one client, over every connection and SSE stream of this instance. @default 100 */
  perClient: number;
}

export const DEFAULT_SUBSCRIPTION_CAPS: SubscriptionCaps = { perConnection: 20, perClient: 100 };

export type SlotClaim =
  { ok: true; release(): void } | { ok: false; scope: 'connection' | 'client'; limit: number };

/**
 * Counts open subscriptions per connection and per client, so one socket or one client cannot open
 * thousands of event streams (each costs a buffer and, per event, a resolution of its selection).
 * A claim is given back exactly once, when its subscription ends, however it ends.
 */
export class SubscriptionSlots {
  private readonly byConnection = new Map<string, number>();
  private readonly byClient = new Map<string, number>();

  claim(
    client: string,
    clientLimit: number,
    connection: string | undefined,
    connectionLimit: number,
  ): SlotClaim {
    const clientCount = this.byClient.get(client) ?? 0;
    if (clientCount >= clientLimit) return { ok: false, scope: 'client', limit: clientLimit };
    const connectionCount = connection === undefined ? 0 : (this.byConnection.get(connection) ?? 0);
    if (connection !== undefined && connectionCount >= connectionLimit)
      return { ok: false, scope: 'connection', limit: connectionLimit };
    this.byClient.set(client, clientCount + 1);
    if (connection !== undefined) this.byConnection.set(connection, connectionCount + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        decrement(this.byClient, client);
        if (connection !== undefined) decrement(this.byConnection, connection);
      },
    };
  }

  /** Open subscriptions of one client on this instance. */
  openFor(client: string): number {
    return this.byClient.get(client) ?? 0;
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const next = (counts.get(key) ?? 1) - 1;
  if (next <= 0) counts.delete(key);
  else counts.set(key, next);
}
