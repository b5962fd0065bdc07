import { toDateTime } from '../../../lib/dates.js';
import { keywordOf, type OptKeyword } from '../keywords.js';
import type { TwilioMessage } from './schemas.js';

/** A text message to or from a customer, in the graph's conventions. */
export interface SmsMessageRecord {
  /** Twilio's message SID. */
  id: string;
  direction: 'INBOUND' | 'OUTBOUND';
  status: SmsStatus;
  /** E.164 numbers (or a short code) as Twilio reports them. */
  from: string | null;
  to: string;
  /** Kept to read keywords from; the graph does not serve message text. */
  body: string | null;
  segments: number;
  /** Twilio's error code when the message failed or was not delivered (30001 queue overflow...). */
  errorCode: number | null;
  createdAt: string;
  /** When Twilio handed it to the carrier (or received it); null while queued. */
  sentAt: string | null;
}

export type SmsStatus = Uppercase<TwilioMessage['status']>;

/**
 * A number's SMS consent as Twilio knows it: from the opt-out and opt-in keywords it texted the
 * sender. Twilio keeps no other record the REST API can read (a Messaging Service's opt-out list is
 * not exposed), so the message history is the record.
 */
export interface SmsConsentRecord {
  /** E.164. */
  phone: string;
  status: 'OPTED_IN' | 'OPTED_OUT' | 'NEVER_OPTED_OUT';
  /** The keyword that set the status; null when the number never texted one. */
  keyword: OptKeyword | null;
  /** When that keyword arrived; null when never. */
  changedAt: string | null;
}

/**
 * A phone number as Twilio addresses it (E.164: `+` and 8 to 15 digits), from how a CRM stores it
 * (`+1 415 555 0123`, `+1 (415) 555-0123`); null when it cannot be one.
 */
export function toE164(phone: string): string | null {
  const compact = phone.trim().replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{7,14}$/.test(compact) ? compact : null;
}

export function toSmsMessage(message: TwilioMessage): SmsMessageRecord {
  return {
    id: message.sid,
    direction: message.direction === 'inbound' ? 'INBOUND' : 'OUTBOUND',
    status: message.status.toUpperCase() as SmsStatus,
    from: message.from,
    to: message.to,
    body: message.body,
    segments: Number(message.num_segments),
    errorCode: message.error_code,
    createdAt: toDateTime(message.date_created),
    sentAt: message.date_sent === null ? null : toDateTime(message.date_sent),
  };
}

/** When a message happened: sent (or received), else created. */
const happenedAt = (message: SmsMessageRecord) => Date.parse(message.sentAt ?? message.createdAt);

/**
 * Consent from a number's inbound messages to the sender: the latest keyword wins. Other texts
 * ("thanks!") change nothing, as with Twilio.
 */
export function consentFrom(phone: string, inbound: readonly SmsMessageRecord[]): SmsConsentRecord {
  const latest = [...inbound]
    .filter((message) => message.direction === 'INBOUND')
    .sort((a, b) => happenedAt(b) - happenedAt(a))
    .map((message) => ({ message, keyword: keywordOf(message.body) }))
    .find((entry) => entry.keyword !== null);
  if (!latest?.keyword) return { phone, status: 'NEVER_OPTED_OUT', keyword: null, changedAt: null };
  return {
    phone,
    status: latest.keyword.optOut ? 'OPTED_OUT' : 'OPTED_IN',
    keyword: latest.keyword.keyword,
    changedAt: new Date(happenedAt(latest.message)).toISOString(),
  };
}
