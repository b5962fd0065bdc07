import { z } from 'zod';
import type { EventType, IncomingEvent } from '../../../lib/events/event.js';
import type { WebhookHeaders } from '../../../lib/webhooks/headers.js';
import {
  accepted,
  invalid,
  zodProblems,
  type NormaliseResult,
} from '../../../lib/webhooks/normalise-result.js';
import { keywordOf } from '../keywords.js';

/**
 * Twilio's messaging webhooks, form-encoded: a status callback (`MessageStatus`) for a message the
 * account sent, or an incoming message (`SmsStatus=received`, with `Body`) from a customer. One
 * canonical event each; statuses that say nothing final yet (queued, sending, accepted, scheduled)
 * are acknowledged without an event. Phone numbers and message text are personal data: they go to
 * `personal`, never `properties`.
 */

/** The statuses that become events; any other documented one is acknowledged and skipped. */
const STATUS_EVENTS = {
  sent: 'SMS_SENT',
  delivered: 'SMS_DELIVERED',
  undelivered: 'SMS_FAILED',
  failed: 'SMS_FAILED',
} as const satisfies Record<string, EventType>;
const NO_EVENT_STATUSES = [
  'queued',
  'sending',
  'accepted',
  'scheduled',
  'read',
  'canceled',
  'partially_delivered',
] as const;

const sid = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}[0-9a-f]{32}$`), `expected a ${prefix}… SID of 32 hex digits`);
const address = z.string().min(1).max(64);

const statusCallback = z.object({
  MessageSid: sid('(SM|MM)'),
  AccountSid: sid('AC'),
  MessageStatus: z.enum([
    ...(Object.keys(STATUS_EVENTS) as (keyof typeof STATUS_EVENTS)[]),
    ...NO_EVENT_STATUSES,
  ]),
  To: address,
  From: address.optional(),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/, 'expected a Twilio error code')
    .optional(),
});

const incoming = z.object({
  MessageSid: sid('(SM|MM)'),
  AccountSid: sid('AC'),
  From: address,
  To: address,
  Body: z.string().max(1600),
  /** Sent when the Messaging Service handles opt-outs itself (Advanced Opt-Out). */
  OptOutType: z.enum(['STOP', 'START', 'HELP']).optional(),
});

/** Twilio sends one form per request; a repeated name is not something it sends, so it is refused. */
function formOf(
  raw: Buffer,
): { ok: true; form: Record<string, string> } | { ok: false; result: NormaliseResult } {
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) {
    if (name in form) return { ok: false, result: invalid(`${name}: sent more than once`) };
    form[name] = value;
  }
  return { ok: true, form };
}

export function normaliseTwilio(raw: Buffer, _headers: WebhookHeaders, receivedAt: Date): NormaliseResult {
  const parsedForm = formOf(raw);
  if (!parsedForm.ok) return parsedForm.result;
  const { form } = parsedForm;
  // Twilio's callbacks carry no time of their own: they are sent as it happens.
  const at = receivedAt.toISOString();
  if (form['MessageStatus'] !== undefined) {
    const parsed = statusCallback.safeParse(form);
    if (!parsed.success) return zodProblems(parsed.error);
    const callback = parsed.data;
    if (!(callback.MessageStatus in STATUS_EVENTS)) return accepted([]);
    const status = callback.MessageStatus as keyof typeof STATUS_EVENTS;
    return accepted([
      {
        // A status is reported once per message; Twilio may retry the same callback.
        dedupeKey: `twilio:${callback.MessageSid}:${status}`,
        type: STATUS_EVENTS[status],
        source: 'twilio',
        occurredAt: at,
        receivedAt: at,
        customer: null,
        properties: {
          messageSid: callback.MessageSid,
          accountSid: callback.AccountSid,
          status,
          errorCode: callback.ErrorCode === undefined ? null : Number(callback.ErrorCode),
        },
        personal: { phone: callback.To },
      },
    ]);
  }
  const parsed = incoming.safeParse(form);
  if (!parsed.success) return zodProblems(parsed.error);
  const message = parsed.data;
  return accepted([
    {
      dedupeKey: `twilio:${message.MessageSid}`,
      type: 'SMS_RECEIVED',
      source: 'twilio',
      occurredAt: at,
      receivedAt: at,
      customer: null,
      properties: { messageSid: message.MessageSid, accountSid: message.AccountSid, ...optOutOf(message) },
      personal: { phone: message.From, body: message.Body },
    },
  ]);
}

/**
 * What an incoming message does to consent: `optOut` true for STOP and the other opt-out keywords,
 * false for START, YES or UNSTOP, absent for any other text. Twilio's own `OptOutType` wins when
 * the Messaging Service sends it (it knows the service's custom keywords).
 */
function optOutOf(message: z.output<typeof incoming>): IncomingEvent['properties'] {
  const found = keywordOf(message.Body);
  // Only a known keyword is kept: a custom one is the customer's own text, which is personal.
  const keyword = found?.keyword ?? null;
  if (message.OptOutType === 'STOP') return { optOut: true, keyword };
  if (message.OptOutType === 'START') return { optOut: false, keyword };
  return found ? { optOut: found.optOut, keyword } : {};
}
