import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IncomingEvent } from '../../../lib/events/event.js';
import { toDateTime } from '../../../lib/dates.js';
import type { WebhookHeaders } from '../../../lib/webhooks/headers.js';
import {
  accepted,
  invalid,
  normaliseEmail,
  zodProblems,
  type NormaliseResult,
} from '../../../lib/webhooks/normalise-result.js';

/**
 * Mailchimp webhook deliveries: `application/x-www-form-urlencoded` with PHP-style keys
 * (`data[merges][FNAME]`), a `type` of subscribe, unsubscribe, profile, upemail, cleaned or
 * campaign, and `fired_at` as `2009-03-26 21:35:57` in UTC. One event per delivery.
 */

/** A form value, or a group of them under one bracketed key. */
type FormTree = { [key: string]: string | FormTree };

const text = (max: number) => z.string().min(1).max(max);
const optionalText = (max: number) => z.string().max(max).optional();
const firedAt = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, { message: 'expected "YYYY-MM-DD HH:MM:SS"', abort: true })
  .refine((value) => Number.isFinite(Date.parse(`${value.replace(' ', 'T')}Z`)), 'not a real date-time');
const mergesSchema: z.ZodType<FormTree> = z.lazy(() =>
  z.record(z.string(), z.union([z.string().max(4000), mergesSchema])),
);

const member = {
  id: text(100),
  list_id: text(100),
  email: z.email().max(320),
  email_type: optionalText(20),
  ip_opt: optionalText(100),
  ip_signup: optionalText(100),
  merges: mergesSchema.optional(),
};

const payloadSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), fired_at: firedAt, data: z.object(member) }),
  z.object({ type: z.literal('profile'), fired_at: firedAt, data: z.object(member) }),
  z.object({
    type: z.literal('unsubscribe'),
    fired_at: firedAt,
    data: z.object({
      ...member,
      action: z.enum(['unsub', 'delete']),
      reason: optionalText(200),
      campaign_id: optionalText(100),
    }),
  }),
  z.object({
    type: z.literal('cleaned'),
    fired_at: firedAt,
    data: z.object({
      list_id: text(100),
      email: z.email().max(320),
      reason: text(50),
      campaign_id: optionalText(100),
    }),
  }),
  z.object({
    type: z.literal('upemail'),
    fired_at: firedAt,
    data: z.object({
      list_id: text(100),
      new_id: text(100),
      new_email: z.email().max(320),
      old_email: z.email().max(320),
    }),
  }),
  z.object({
    type: z.literal('campaign'),
    fired_at: firedAt,
    data: z.object({
      id: text(100),
      list_id: text(100),
      subject: z.string().max(1000),
      status: text(50),
      reason: optionalText(200),
    }),
  }),
]);
type Payload = z.output<typeof payloadSchema>;

/** Merge tags the graph has its own names for; other tags keep theirs under `mergeField.`. */
const MERGE_NAMES: Record<string, string> = {
  FNAME: 'firstName',
  LNAME: 'lastName',
  PHONE: 'phone',
  BIRTHDAY: 'birthday',
  ADDRESS: 'address',
};

export function normaliseMailchimp(raw: Buffer, _headers: WebhookHeaders, receivedAt: Date): NormaliseResult {
  const pairs = [...new URLSearchParams(raw.toString('utf8'))];
  const tree = unflatten(pairs);
  if (!tree.ok) return invalid(`${tree.key}: ${tree.why}`);
  const parsed = payloadSchema.safeParse(tree.value);
  if (!parsed.success) return zodProblems(parsed.error);
  return accepted([toEvent(parsed.data, pairs, receivedAt)]);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** `data[merges][FNAME]=A` as `{ data: { merges: { FNAME: 'A' } } }`; a repeated key keeps its last value. */
function unflatten(
  pairs: readonly [string, string][],
): { ok: true; value: FormTree } | { ok: false; key: string; why: string } {
  // Null prototypes, and no key that names one: a body must not reach Object.prototype.
  const group = (): FormTree => Object.create(null) as FormTree;
  const root = group();
  for (const [key, value] of pairs) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    const path = match
      ? [match[1] ?? key, ...[...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '')]
      : [key];
    if (path.some((part) => FORBIDDEN_KEYS.has(part))) return { ok: false, key, why: 'not a field name' };
    let node = root;
    for (const [index, part] of path.entries()) {
      if (index === path.length - 1) {
        if (typeof node[part] === 'object')
          return { ok: false, key, why: 'sent both as a value and as a group' };
        node[part] = value;
        break;
      }
      const next = node[part];
      if (typeof next === 'string') return { ok: false, key, why: 'sent both as a value and as a group' };
      node = next ?? (node[part] = group());
    }
  }
  return { ok: true, value: root };
}

function toEvent(payload: Payload, pairs: readonly [string, string][], receivedAt: Date): IncomingEvent {
  const base = {
    dedupeKey: dedupeKey(payload, pairs),
    source: 'mailchimp' as const,
    occurredAt: toDateTime(payload.fired_at),
    receivedAt: receivedAt.toISOString(),
  };
  switch (payload.type) {
    case 'subscribe':
    case 'profile': {
      const { data } = payload;
      return {
        ...base,
        type: payload.type === 'subscribe' ? 'EMAIL_SUBSCRIBED' : 'CONTACT_UPDATED',
        customer: { email: normaliseEmail(data.email) },
        properties: {
          listId: data.list_id,
          memberId: data.id,
          ...(payload.type === 'profile' ? { change: 'PROFILE' } : {}),
          ...(data.email_type ? { emailType: data.email_type.toUpperCase() } : {}),
        },
        personal: memberPersonal(data),
      };
    }
    case 'unsubscribe': {
      const { data } = payload;
      return {
        ...base,
        type: 'EMAIL_UNSUBSCRIBED',
        customer: { email: normaliseEmail(data.email) },
        properties: {
          listId: data.list_id,
          memberId: data.id,
          action: data.action === 'unsub' ? 'UNSUBSCRIBE' : 'DELETE',
          reason: data.reason || null,
          campaignId: data.campaign_id || null,
        },
        personal: memberPersonal(data),
      };
    }
    case 'cleaned':
      return {
        ...base,
        type: 'EMAIL_CLEANED',
        customer: { email: normaliseEmail(payload.data.email) },
        properties: {
          listId: payload.data.list_id,
          reason: payload.data.reason === 'hard' ? 'HARD_BOUNCE' : payload.data.reason.toUpperCase(),
          campaignId: payload.data.campaign_id || null,
        },
        personal: null,
      };
    case 'upemail':
      return {
        ...base,
        type: 'CONTACT_UPDATED',
        // The address the person uses from now on; the old one is personal data of the change.
        customer: { email: normaliseEmail(payload.data.new_email) },
        properties: { listId: payload.data.list_id, memberId: payload.data.new_id, change: 'EMAIL' },
        personal: { previousEmail: normaliseEmail(payload.data.old_email) },
      };
    case 'campaign':
      return {
        ...base,
        type: 'EMAIL_CAMPAIGN_SENT',
        customer: null,
        properties: {
          campaignId: payload.data.id,
          listId: payload.data.list_id,
          subject: payload.data.subject,
          status: payload.data.status.toUpperCase(),
          reason: payload.data.reason || null,
        },
        personal: null,
      };
  }
}

/** Merge fields and sign-up addresses: everything Mailchimp holds about the member beyond the email. */
function memberPersonal(data: {
  ip_opt?: string | undefined;
  ip_signup?: string | undefined;
  merges?: FormTree | undefined;
}): Record<string, string> | null {
  const personal: Record<string, string> = {};
  const add = (prefix: string, tree: FormTree) => {
    for (const [key, value] of Object.entries(tree)) {
      const name = `${prefix}${key}`;
      if (typeof value === 'string') personal[name] = value;
      else add(`${name}.`, value);
    }
  };
  for (const [tag, value] of Object.entries(data.merges ?? {})) {
    // The address itself is the customer reference, not extra personal data.
    if (tag === 'EMAIL') continue;
    const name = MERGE_NAMES[tag] ?? `mergeField.${tag}`;
    if (typeof value === 'string') {
      if (value !== '') personal[name] = value;
    } else add(`${name}.`, value);
  }
  if (data.ip_signup) personal['ipSignup'] = data.ip_signup;
  if (data.ip_opt) personal['ipOpt'] = data.ip_opt;
  return Object.keys(personal).length > 0 ? personal : null;
}

/**
 * Mailchimp sends no delivery id, so a redelivery is recognised by its content: the type, the
 * second it fired, the list, the address, and every other field, sorted so field order does not
 * matter. Hashed: the key is stored and logged, the address must not be. Mailchimp signs nothing
 * (the URL secret is the only check), so the body is all there is to key on; no header counts.
 */
function dedupeKey(payload: Payload, pairs: readonly [string, string][]): string {
  const address =
    payload.type === 'upemail'
      ? payload.data.new_email
      : payload.type === 'campaign'
        ? ''
        : payload.data.email;
  const rest = [...pairs].map(([k, v]) => `${k}=${v}`).sort();
  const digest = createHash('sha256')
    .update(
      JSON.stringify([payload.type, payload.fired_at, payload.data.list_id, normaliseEmail(address), rest]),
    )
    .digest('hex');
  return `mailchimp:${payload.type}:${digest}`;
}
