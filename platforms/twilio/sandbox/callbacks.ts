import { request } from 'undici';
import type { Logger } from '../../../lib/logger.js';
import { twilioWebhookHeaders } from './sign.js';

/**
 * The status callbacks the sandbox posts for the messages created with a `StatusCallback`, as
 * Twilio sends them: form-encoded, signed with the auth token for the URL (sign.ts).
 */

/** One webhook the sandbox sent: what, where, and what the app answered. */
export interface SentCallback {
  url: string;
  params: Record<string, string>;
  /** The app's HTTP status; null when it could not be reached. */
  status: number | null;
  delivered: boolean;
  at: string;
}

/** The last callbacks sent, newest last, for tests and `GET /__sandbox/callbacks`. */
export class CallbackLog {
  readonly sent: SentCallback[] = [];
  constructor(private readonly max = 500) {}

  add(entry: SentCallback): void {
    this.sent.push(entry);
    if (this.sent.length > this.max) this.sent.splice(0, this.sent.length - this.max);
  }
}

/**
 * Posts one signed webhook. Twilio gives an app 15 s; the sandbox gives 5. Twilio does not retry a
 * messaging status callback by default, and neither does the sandbox: the outcome is logged.
 */
export async function postCallback(
  url: string,
  params: Record<string, string>,
  authToken: string,
  log: CallbackLog,
  logger: Logger | undefined,
): Promise<SentCallback> {
  const body = new URLSearchParams(params).toString();
  let status: number | null = null;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: twilioWebhookHeaders(authToken, url, params),
      body,
      signal: AbortSignal.timeout(5_000),
    });
    await response.body.dump();
    status = response.statusCode;
  } catch (error) {
    logger?.debug({ err: { message: (error as Error).message } }, 'twilio sandbox callback failed');
  }
  const entry: SentCallback = {
    url,
    params,
    status,
    delivered: status !== null && status >= 200 && status < 300,
    at: new Date().toISOString(),
  };
  log.add(entry);
  return entry;
}
