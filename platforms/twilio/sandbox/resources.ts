import { createHash } from 'node:crypto';

/** The API version in every path and in every resource Twilio returns. */
export const API_VERSION = '2010-04-01';

export type Direction = 'inbound' | 'outbound-api' | 'outbound-reply';
export type FinalStatus = 'delivered' | 'undelivered' | 'failed' | 'received';

/**
 * A message the sandbox holds. Its status is a function of time (queued until `sentAt`, sent until
 * `doneAt`, then `final`), so a fetch, a listing and the status callbacks agree without timers
 * rewriting it.
 */
export interface SandboxMessage {
  sid: string;
  direction: Direction;
  from: string;
  to: string;
  body: string;
  segments: number;
  messagingServiceSid: string | null;
  createdAt: number;
  /** When it leaves the sender's queue (or, inbound, when it arrived); null when it never does. */
  sentAt: number | null;
  /** When the final status applies. */
  doneAt: number;
  final: FinalStatus;
  errorCode: number | null;
}

/** Twilio writes instants as RFC 2822 with a numeric zone: `Thu, 30 Jul 2015 20:12:31 +0000`. */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** A Twilio SID: two letters and 32 hex digits, derived from `seed` so a seeded world repeats it. */
export function sidFor(prefix: string, seed: string): string {
  return `${prefix}${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
}

/** GSM-7 fits 160 characters in one segment, 153 per segment once split (UCS-2: 70 and 67). */
export function segmentsOf(body: string): number {
  const gsm = /^[\x20-\x7e\n\r£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}

export function statusAt(message: SandboxMessage, now: number): string {
  if (message.direction === 'inbound') return 'received';
  if (message.sentAt === null || now >= message.doneAt) return message.final;
  return now < message.sentAt ? 'queued' : 'sent';
}

/** When the status shown at `now` was reached. */
function lastChange(message: SandboxMessage, now: number): number {
  if (message.sentAt === null || now >= message.doneAt) return message.doneAt;
  return now >= message.sentAt ? message.sentAt : message.createdAt;
}

const ERROR_MESSAGES: Record<number, string> = {
  30001: 'Queue overflow',
  30003: 'Unreachable destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
};

/** The Message resource as Twilio returns it from create, fetch and list. */
export function toMessageJson(
  message: SandboxMessage,
  accountSid: string,
  now: number,
): Record<string, unknown> {
  const status = statusAt(message, now);
  const sent = message.sentAt !== null && now >= message.sentAt;
  const errorCode = status === 'failed' || status === 'undelivered' ? message.errorCode : null;
  const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages/${message.sid}.json`;
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    body: message.body,
    date_created: rfc2822(message.createdAt),
    date_sent: sent && message.sentAt !== null ? rfc2822(message.sentAt) : null,
    date_updated: rfc2822(lastChange(message, now)),
    direction: message.direction,
    error_code: errorCode,
    error_message: errorCode === null ? null : (ERROR_MESSAGES[errorCode] ?? 'Unknown error'),
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    num_media: '0',
    num_segments: String(message.segments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: message.to,
    uri,
  };
}
