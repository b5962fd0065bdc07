import type { AlertNotice } from '../engine.js';

/** Where notices go: Slack, email, the log, the hub's own events (and so outbound webhooks). */
export interface AlertChannel {
  name: string;
  type: 'slack' | 'email' | 'log' | 'events';
  /** Resolves once the channel took the notice; throws SendFailure otherwise. */
  send(notice: AlertNotice): Promise<void>;
}

/** A notice a channel did not take; `retryable` when trying again may succeed. */
export class SendFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendFailure';
  }
}
