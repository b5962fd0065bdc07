import { z } from 'zod';

/** Twilio REST API 2010-04-01 payloads as documented; only the fields the connector reads. */

/** Twilio writes instants as RFC 2822 (`Thu, 30 Jul 2015 20:12:31 +0000`). */
const rfc2822 = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an RFC 2822 date');

/** Twilio's error body on every failed call. */
export const twilioErrorBody = z
  .object({
    code: z.number().int(),
    message: z.string(),
    more_info: z.string().optional(),
    status: z.number().int().optional(),
  })
  .loose();

export const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'receiving',
  'received',
  'accepted',
  'scheduled',
  'read',
  'partially_delivered',
  'canceled',
] as const;

export const MESSAGE_DIRECTIONS = ['inbound', 'outbound-api', 'outbound-call', 'outbound-reply'] as const;

/** Counts Twilio sends as strings (`"num_segments": "1"`). */
const countText = z.string().regex(/^\d{1,6}$/, 'expected a count as digits');

/** A Message resource (`SM…` or `MM…`), as created, fetched or listed. */
export const twilioMessage = z.object({
  sid: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/, 'expected a message SID'),
  account_sid: z.string().min(1),
  from: z.string().nullable(),
  to: z.string(),
  body: z.string().nullable(),
  status: z.enum(MESSAGE_STATUSES),
  direction: z.enum(MESSAGE_DIRECTIONS),
  num_segments: countText,
  error_code: z.number().int().nullable(),
  date_created: rfc2822,
  date_sent: rfc2822.nullable(),
  date_updated: rfc2822,
});
export type TwilioMessage = z.output<typeof twilioMessage>;

/** One page of `GET /Accounts/{AccountSid}/Messages.json`: `next_page_uri` is null on the last. */
export const twilioMessagePage = z.object({
  messages: z.array(twilioMessage),
  page: z.number().int().min(0),
  page_size: z.number().int().min(1),
  next_page_uri: z.string().nullable(),
});

/** `GET /Accounts/{AccountSid}.json`: the breaker's cheap read. */
export const twilioAccount = z.object({ sid: z.string().min(1), status: z.string() });
