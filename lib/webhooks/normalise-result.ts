import type { z } from 'zod';
import { incomingEventSchema, type IncomingEvent } from '../events/event.js';
import type { WebhookHeaders } from './headers.js';

/**
 * What a normaliser makes of one webhook request: the canonical events it reports, or what was
 * wrong with it. Problems name the field and the rule it broke and never quote a value: webhook
 * bodies carry personal data, and problems are answered to the caller and logged.
 */
export type NormaliseResult = { ok: true; events: IncomingEvent[] } | { ok: false; problems: string[] };

/** A platform's normaliser: a pure function of the raw body, the headers and the receipt time. */
export type Normaliser = (raw: Buffer, headers: WebhookHeaders, receivedAt: Date) => NormaliseResult;

/** At most this many problems are reported: enough to fix a payload, short enough to log. */
const MAX_PROBLEMS = 10;

export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(body)';
}

export function invalid(...problems: string[]): NormaliseResult {
  return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };
}

/** Zod issues as problems (`[2].subscriptionType: Invalid option: …`). Zod's messages quote no input. */
export function zodProblems(error: z.ZodError): NormaliseResult {
  return invalid(...error.issues.map((issue) => `${pathText(issue.path)}: ${issue.message}`));
}

/** The body as JSON, or the problem that it is not JSON. */
export function parseJson(
  raw: Buffer,
): { ok: true; value: unknown } | { ok: false; result: NormaliseResult } {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false, result: invalid('(body): not valid JSON') };
  }
}

/**
 * The events a normaliser built, checked against the canonical shape before anything downstream
 * trusts them; a normaliser bug or a value past a canonical limit becomes a problem, not a throw.
 */
export function accepted(events: readonly IncomingEvent[]): NormaliseResult {
  const checked: IncomingEvent[] = [];
  const problems: string[] = [];
  events.forEach((event, index) => {
    const result = incomingEventSchema.safeParse(event);
    if (result.success) checked.push(result.data);
    else
      problems.push(
        ...result.error.issues.map((issue) => `event[${index}].${pathText(issue.path)}: ${issue.message}`),
      );
  });
  return problems.length > 0 ? invalid(...problems) : { ok: true, events: checked };
}

/** An email address as the graph keys customers: trimmed and lower case. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
