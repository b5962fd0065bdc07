import { z } from 'zod';
import type { RequestContext } from '../../lib/request-context.js';
import type { RowResult } from '../../lib/upstream/writes.js';
import {
  fillTemplate,
  paramsOf,
  rejectAction,
  type ActionItem,
  type ActionOutcome,
  type PlatformActions,
} from '../kit/actions.js';
import { onFirstUse } from '../kit/lazy.js';
import { HUBSPOT_BATCH_WRITE, type ContactUpdate } from './client/writes.js';
import type { HubSpotConnection } from './index.js';

/**
 * HubSpot's actions on the contact the event names (its CRM id, completed by the processor):
 * set contact properties, up to 100 contacts a call (`POST /crm/v3/objects/contacts/batch/update`,
 * idempotent: it writes values, so a repeat leaves the contact as once), and add a note to the
 * contact's timeline (`POST /crm/v3/objects/notes`). A note is not idempotent: the outbox sends it
 * at most once after a call that may have left (see events/actions/README.md).
 */

const propertyName = z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, "expected HubSpot's internal property name");
const updateParams = z
  .object({
    properties: z
      .record(propertyName, z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]))
      .refine((p) => Object.keys(p).length > 0, 'name at least one property'),
  })
  .strict();
const noteParams = z
  .object({
    /** The note's text; `{{name}}` is filled from the event's properties (`{{totalPrice}}`). */
    body: z.string().min(1).max(10_000),
  })
  .strict();

const outcomeOf = (row: RowResult): ActionOutcome =>
  row.status === 'accepted'
    ? { status: 'done', ...(row.id ? { detail: row.id } : {}) }
    : { status: 'rejected', code: row.code, reason: row.reason, retryable: row.retryable };

const NO_ID = rejectAction('CUSTOMER_WITHOUT_CRM_ID', 'the event names no CRM contact id');

export const hubspotActions: PlatformActions<HubSpotConnection> = {
  kinds: [
    {
      type: 'update-contact',
      description: "sets properties on the customer's contact (batch update)",
      params: updateParams,
      batchSize: HUBSPOT_BATCH_WRITE,
      idempotent: true,
      needsCustomerId: true,
    },
    {
      type: 'create-note',
      description: "adds a note to the customer's contact timeline",
      params: noteParams,
      batchSize: 1,
      idempotent: false,
      needsCustomerId: true,
    },
  ],
  connect(connection, settings) {
    const { ratePer10s, ...rest } = connection;
    const hubspot = onFirstUse(
      async () =>
        new (await import('./client/connector.js')).HubSpotConnector({
          ...rest,
          ...settings,
          ...(ratePer10s !== undefined ? { limits: { per10s: ratePer10s } } : {}),
        }),
    );

    async function updateContacts(ctx: RequestContext, items: readonly ActionItem[]) {
      const out: (ActionOutcome | undefined)[] = [];
      // A batch names each contact once: a second action for one contact goes in the next call.
      let pending: { at: number; update: ContactUpdate }[] = [];
      for (const [at, item] of items.entries()) {
        const parsed = paramsOf(updateParams, item);
        if (!parsed.ok) out[at] = parsed.outcome;
        else if (!item.event.customer?.id) out[at] = NO_ID;
        else
          pending.push({ at, update: { id: item.event.customer.id, properties: parsed.params.properties } });
      }
      while (pending.length > 0) {
        const seen = new Set<string>();
        const batch: typeof pending = [];
        const later: typeof pending = [];
        for (const entry of pending) {
          const id = entry.update.id.toLowerCase();
          if (seen.has(id)) later.push(entry);
          else {
            seen.add(id);
            batch.push(entry);
          }
        }
        const rows = await (
          await hubspot.get()
        ).writes.batchUpdateContacts(
          ctx,
          batch.map((b) => b.update),
        );
        for (const [i, entry] of batch.entries()) {
          const row = rows[i];
          out[entry.at] = row ? outcomeOf(row) : rejectAction('ACTION_NO_ANSWER', 'no row for the contact');
        }
        pending = later;
      }
      return out.map((o) => o ?? rejectAction('ACTION_NO_ANSWER', 'no outcome'));
    }

    async function createNote(ctx: RequestContext, item: ActionItem): Promise<ActionOutcome> {
      const parsed = paramsOf(noteParams, item);
      if (!parsed.ok) return parsed.outcome;
      const contactId = item.event.customer?.id;
      if (!contactId) return NO_ID;
      const filled = fillTemplate(parsed.params.body, item.event);
      if (!filled.ok)
        return rejectAction('TEMPLATE_VALUE_MISSING', `the event has no value for {{${filled.missing}}}`);
      return outcomeOf(
        await (
          await hubspot.get()
        ).writes.createNote(ctx, {
          contactId,
          body: filled.text,
          timestamp: new Date(item.event.occurredAt),
        }),
      );
    }

    return {
      async run(ctx, type, items) {
        if (type === 'update-contact') return updateContacts(ctx, items);
        const out: ActionOutcome[] = [];
        for (const item of items) out.push(await createNote(ctx, item));
        return out;
      },
      close: () => hubspot.close(),
    };
  },
};
