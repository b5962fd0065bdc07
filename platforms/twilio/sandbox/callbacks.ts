import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { Logger } from '../../../lib/logger.js';

/**
 * The sandbox's webhooks to the app, as Twilio sends them: form-encoded POSTs signed with
 * `X-Twilio-Signature`, base64 HMAC-SHA1 keyed by the auth token over the URL called followed by
 * every parameter's name and value, sorted by name. Written here from Twilio's description, apart
 * from the gateway's verifier, so a mistake in one does not hide the same mistake in the other.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const signed = Object.keys(params)
    .sort()
    .reduce((text, name) => `${text}${name}${params[name] ?? ''}`, url);
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

/** One webhook the sandbox sent: what, where, and what the app answered. */
export interface SentCallback {
  /** `status` for a status callback, `incoming` for an inbound message. */
  kind: 'status' | 'incoming';
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
  kind: SentCallback['kind'],
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
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(authToken, url, params),
        'user-agent': 'TwilioProxy/1.1',
      },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    await response.body.dump();
    status = response.statusCode;
  } catch (error) {
    logger?.debug({ kind, err: { message: (error as Error).message } }, 'twilio sandbox callback failed');
  }
  const entry: SentCallback = {
    kind,
    url,
    params,
    status,
    delivered: status !== null && status >= 200 && status < 300,
    at: new Date().toISOString(),
  };
  log.add(entry);
  return entry;
}
