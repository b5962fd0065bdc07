import type { z } from 'zod';
import type { JsonValue } from '../../lib/events/event.js';
import type { Logger } from '../../lib/logger.js';
import type { RequestContext } from '../../lib/request-context.js';

/**
 * Actions: writes a routing rule asks a platform to make for an event (tag the member, send a
 * Purchase to the pixel, set a contact property, text the customer). Each platform declares its
 * kinds in `platforms/<name>/actions.ts` (a zod schema of the parameters a rule gives, and an
 * executor built from its own client) and exposes them on its descriptor; the event pipeline
 * (events/actions/) knows them only through this interface and the registry, so it never names a
 * platform.
 */

/** What an action sees of the event that triggered it: a snapshot stored with the action. */
export interface ActionEvent {
  /** The event log's id: stable, so an action built from it is the same after a crash. */
  id: string;
  type: string;
  source: string;
  /** When it happened (ISO-8601 UTC). */
  occurredAt: string;
  /** Who it is about, completed by the processor (a CRM id and/or an email). */
  customer: { id?: string; email?: string } | null;
  properties: Record<string, JsonValue>;
  /** Personal data the event carried (names, a phone number): the platforms need it to match. */
  personal: Record<string, string> | null;
}

/** One action to run: its parameters as the rule gave them (validated) and its event. */
export interface ActionItem {
  /** Unique per (rule, action, event); the platform's idempotency key where it has one. */
  key: string;
  params: unknown;
  event: ActionEvent;
}

/**
 * What the platform did with one action. `rejected` carries the platform's (or the executor's)
 * code; `retryable` says a later try may succeed unchanged (the member is not in the audience yet,
 * a conflict), otherwise it is a permanent failure.
 */
export type ActionOutcome =
  | { status: 'done'; detail?: string }
  | { status: 'rejected'; code: string; reason: string; retryable: boolean };

/** One kind of action a platform can run (`add-tags`, `conversion`). */
export interface ActionKind {
  /** Its name in a rule: lower-case words and dashes. */
  type: string;
  /** What it does, for the docs and error messages. */
  description: string;
  /** The parameters a rule gives, beside `platform` and `type` (a strict object schema). */
  params: z.ZodType;
  /** Actions sent in one call at most: 1 unless the platform has a batch endpoint. */
  batchSize: number;
  /**
   * Sending it again after a call that may have been applied (timeout, 5xx) cannot apply it twice:
   * the platform deduplicates (Meta's event_id) or the write is a PUT of a state. False for sends
   * (an SMS, a note), which are never sent again once a call may have left.
   */
  idempotent: boolean;
  /**
   * It needs the customer's CRM id (a contact to write to): the processor reads the customer
   * through the graph when the event names only an email. @default false
   */
  needsCustomerId?: boolean;
}

/** What an executor's client is built with besides the platform's connection. */
export interface ActionClientSettings {
  timeoutMs: number;
  /** Retries of idempotent calls inside the client (429, 5xx, timeouts), before the outbox's own. */
  maxRetries: number;
  logger: Logger;
}

/** Runs a platform's actions through its client (its throttle, breaker and retries). */
export interface ActionExecutor {
  /**
   * Runs up to `kind.batchSize` actions of one kind, answering an outcome per item in the order
   * given. Throws the client's UpstreamError when the call fails as a whole.
   */
  run(ctx: RequestContext, type: string, items: readonly ActionItem[]): Promise<ActionOutcome[]>;
  close(): Promise<void>;
}

/** A platform's actions, on its descriptor. `C` is what its client needs to reach it. */
export interface PlatformActions<C = unknown> {
  kinds: readonly ActionKind[];
  connect(connection: C, settings: ActionClientSettings): ActionExecutor;
}

/** A rejection of one item by the executor itself (missing data, bad stored parameters). */
export const rejectAction = (code: string, reason: string): ActionOutcome => ({
  status: 'rejected',
  code,
  reason,
  retryable: false,
});

/** The parameters of an item, parsed again with its kind's schema (the outbox stores JSON). */
export function paramsOf<S extends z.ZodType>(
  schema: S,
  item: ActionItem,
): { ok: true; params: z.output<S> } | { ok: false; outcome: ActionOutcome } {
  const parsed = schema.safeParse(item.params);
  if (parsed.success) return { ok: true, params: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    outcome: rejectAction(
      'ACTION_INVALID_PARAMS',
      `${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'invalid'}`,
    ),
  };
}

/** `{{name}}` placeholders filled from the event's properties and personal data. */
export function fillTemplate(
  template: string,
  event: ActionEvent,
): { ok: true; text: string } | { ok: false; missing: string } {
  let missing: string | undefined;
  const text = template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const value = event.properties[name] ?? event.personal?.[name];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    missing ??= name;
    return '';
  });
  return missing === undefined ? { ok: true, text } : { ok: false, missing };
}
