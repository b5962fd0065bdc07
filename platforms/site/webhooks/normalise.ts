import { z } from 'zod';
import type { IncomingEvent } from '../../../lib/events/event.js';
import { toDateTime } from '../../../lib/dates.js';
import {
  looksPersonal,
  pathWithoutPersonalData,
  urlWithoutPersonalData,
} from '../../../lib/personal-data.js';
import { parseUtm, type Utm } from '../../../lib/utm.js';
import { headerValue, type WebhookHeaders } from '../../../lib/webhooks/headers.js';
import {
  accepted,
  invalid,
  normaliseEmail,
  parseJson,
  zodProblems,
  type NormaliseResult,
} from '../../../lib/webhooks/normalise-result.js';

/**
 * The company's own site, posting Standard Webhooks messages
 * (`{"type":…,"timestamp":"<ISO>","data":{…}}`):
 * - `form.submitted`, data `{ formId, pageUrl, fields: [{ name, value }], utm? }`: the fields are
 *   personal data; the submitter is the customer named by the `email` field;
 * - `page.viewed`, data `{ url, path?, referrer?, title?, email? }`: `email` when the visitor is
 *   known (signed in, or identified by an earlier form).
 * `utm` is the campaign the site attributed the visit to (its first-touch cookie); without it the
 * page URL's own UTM parameters count.
 *
 * URLs, paths and referrers are what the visitor's browser had, and sites echo form input and
 * greetings into them (`/welcome?email=ada@example.com`, "Welcome back, Ada Ito"). `properties`
 * are shown without `pii:read`, so URLs keep no fragment, no personal path segment and no query
 * parameter but the attribution ones (lib/personal-data.ts); a UTM value that looks personal is
 * null; and no page title is kept: a title is free text, and names cannot be told from words.
 */

const MAX_ID_LENGTH = 256;
/** Field names that hold the submitter's address, compared case-insensitively. */
const EMAIL_FIELDS = new Set(['email', 'email_address', 'emailaddress']);
const email = z.email().max(320);

const pageUrl = z.url({ protocol: /^https?$/ }).max(4000);
const utmValue = z.string().min(1).max(500).optional();
const utmSchema = z.object({
  source: utmValue,
  medium: utmValue,
  campaign: utmValue,
  content: utmValue,
  term: utmValue,
});
const timestamp = z.iso.datetime({ offset: true });

const messageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('form.submitted'),
    timestamp,
    data: z.object({
      formId: z.string().min(1).max(200),
      pageUrl,
      fields: z
        .array(z.object({ name: z.string().min(1).max(200), value: z.string().max(10_000) }))
        .min(1)
        .max(200),
      utm: utmSchema.optional(),
    }),
  }),
  z.object({
    type: z.literal('page.viewed'),
    timestamp,
    data: z.object({
      url: pageUrl,
      path: z.string().max(4000).optional(),
      referrer: z.string().max(4000).nullable().optional(),
      title: z.string().max(1000).nullable().optional(),
      email: email.optional(),
    }),
  }),
]);
type Message = z.output<typeof messageSchema>;

export function normaliseSite(raw: Buffer, headers: WebhookHeaders, receivedAt: Date): NormaliseResult {
  // Stable across the sender's retries: the Standard Webhooks idempotency key. It is part of what
  // the signature covers (`webhook-id.webhook-timestamp.body`), so a replay cannot change it.
  const id = headerValue(headers, 'webhook-id');
  if (id === undefined || id === '') return invalid('webhook-id: header missing');
  if (id.length > MAX_ID_LENGTH) return invalid(`webhook-id: longer than ${MAX_ID_LENGTH}`);
  const json = parseJson(raw);
  if (!json.ok) return json.result;
  const parsed = messageSchema.safeParse(json.value);
  if (!parsed.success) return zodProblems(parsed.error);
  return accepted([toEvent(parsed.data, `site:${id}`, receivedAt)]);
}

function toEvent(message: Message, dedupeKey: string, receivedAt: Date): IncomingEvent {
  const base = {
    dedupeKey,
    source: 'site' as const,
    occurredAt: toDateTime(message.timestamp),
    receivedAt: receivedAt.toISOString(),
  };
  if (message.type === 'form.submitted') {
    const { data } = message;
    const personal: Record<string, string> = {};
    for (const field of data.fields) {
      // A repeated name is a multi-valued field (checkboxes): keep every value.
      const earlier = personal[field.name];
      personal[field.name] = earlier === undefined ? field.value : `${earlier}, ${field.value}`;
    }
    const submitted = data.fields.find((field) => EMAIL_FIELDS.has(field.name.toLowerCase()));
    return {
      ...base,
      type: 'FORM_SUBMITTED',
      customer: customerRef(submitted?.value),
      properties: {
        formId: data.formId,
        pageUrl: urlWithoutPersonalData(data.pageUrl),
        utm: attribution(data.utm, data.pageUrl),
      },
      personal,
    };
  }
  const { data } = message;
  return {
    ...base,
    type: 'PAGE_VIEWED',
    customer: customerRef(data.email),
    properties: {
      url: urlWithoutPersonalData(data.url),
      path: pathWithoutPersonalData(withoutQuery(data.path ?? new URL(data.url).pathname)),
      referrer: data.referrer ? urlWithoutPersonalData(data.referrer) : null,
      utm: attribution(undefined, data.url),
    },
    personal: null,
  };
}

/** An address typed into a form may be anything; only a real one names a customer. */
function customerRef(address: string | undefined): IncomingEvent['customer'] {
  if (address === undefined) return null;
  const normalised = normaliseEmail(address);
  return email.safeParse(normalised).success ? { email: normalised } : null;
}

/** A path as the site sent it, without the query or fragment it may carry. */
function withoutQuery(path: string): string {
  return path.split(/[?#]/, 1)[0] ?? '';
}

/** A UTM value as a detail: absent when the sender put personal data in it. */
function publicValue(value: string | undefined): string | null {
  return value === undefined || looksPersonal(value) ? null : value;
}

function attribution(
  given: z.output<typeof utmSchema> | undefined,
  url: string,
): Record<keyof Utm, string | null> | null {
  if (given && Object.values(given).some((value) => value !== undefined)) {
    const utm = {
      source: publicValue(given.source),
      medium: publicValue(given.medium),
      campaign: publicValue(given.campaign),
      content: publicValue(given.content),
      term: publicValue(given.term),
    };
    return Object.values(utm).some((value) => value !== null) ? utm : null;
  }
  return parseUtm(url);
}
