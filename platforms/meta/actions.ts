import { z } from 'zod';
import { isDecimal } from '../../lib/money.js';
import {
  paramsOf,
  rejectAction,
  type ActionEvent,
  type ActionItem,
  type ActionOutcome,
  type PlatformActions,
} from '../kit/actions.js';
import { onFirstUse } from '../kit/lazy.js';
import { ACTION_SOURCES, MAX_EVENTS_PER_REQUEST, type ConversionEvent } from './client/conversions.js';
import type { MetaConnection } from './index.js';

/**
 * Meta's actions: a Conversions API event (`Purchase`, `Lead`) for the event, sent through the
 * connector's `conversions` (user data normalised and SHA-256 hashed there, up to 1,000 events a
 * request, behind the app's Conversions API budget). The `event_id` is the order id for an order
 * (what the site's pixel sends as `eventID` for the same purchase, so Meta counts it once) and
 * the event log's id otherwise: Meta keeps one event per name and id, so sending a batch again
 * after a crash or a timeout counts nothing twice.
 */

const conversionParams = z
  .object({
    event: z.enum(['Purchase', 'Lead']),
    /** The pixel (dataset) the events go to: Meta's numeric id. */
    pixelId: z.string().regex(/^\d{1,20}$/, "expected the pixel's numeric id, as a string"),
    /** Where it happened, as Meta asks (`system_generated`: the shop's backend). */
    actionSource: z.enum(ACTION_SOURCES).default('system_generated'),
    /** Sends to Events Manager's Test Events tab instead of the pixel's data. */
    testEventCode: z.string().min(1).max(64).optional(),
  })
  .strict();
type ConversionParams = z.output<typeof conversionParams>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;

/** The wire event of one action, or why it cannot be one. */
function conversionOf(item: ActionItem, params: ConversionParams): ConversionEvent | ActionOutcome {
  const event: ActionEvent = item.event;
  const orderId = text(event.properties['orderId']);
  const amount = text(event.properties['totalPrice']);
  const currency = text(event.properties['currency']);
  if (params.event === 'Purchase' && !(amount && isDecimal(amount) && currency))
    return rejectAction('PURCHASE_WITHOUT_VALUE', 'the event has no totalPrice and currency for a Purchase');
  const personal = event.personal ?? {};
  return {
    name: params.event,
    time: new Date(event.occurredAt),
    id: orderId && params.event === 'Purchase' ? `order-${orderId}` : event.id,
    actionSource: params.actionSource,
    customer: {
      ...(event.customer?.email ? { email: event.customer.email } : {}),
      ...(event.customer?.id ? { externalId: event.customer.id } : {}),
      ...(personal['phone'] ? { phone: personal['phone'] } : {}),
      ...(personal['firstName'] ? { firstName: personal['firstName'] } : {}),
      ...(personal['lastName'] ? { lastName: personal['lastName'] } : {}),
    },
    ...(params.event === 'Purchase' && amount && currency ? { value: { amount, currency } } : {}),
    ...(orderId ? { orderId } : {}),
  };
}

export const metaActions: PlatformActions<MetaConnection> = {
  kinds: [
    {
      type: 'conversion',
      description: 'sends a Conversions API event (Purchase or Lead) to a pixel',
      params: conversionParams,
      batchSize: MAX_EVENTS_PER_REQUEST,
      idempotent: true,
    },
  ],
  connect(connection, settings) {
    const meta = onFirstUse(
      async () => new (await import('./client/connector.js')).MetaConnector({ ...connection, ...settings }),
    );
    return {
      async run(ctx, _type, items) {
        const outcomes: (ActionOutcome | undefined)[] = [];
        // One request per pixel (and test code): a rule names its own.
        const groups = new Map<string, { at: number; event: ConversionEvent }[]>();
        const paramsByGroup = new Map<string, ConversionParams>();
        for (const [at, item] of items.entries()) {
          const parsed = paramsOf(conversionParams, item);
          if (!parsed.ok) {
            outcomes[at] = parsed.outcome;
            continue;
          }
          const built = conversionOf(item, parsed.params);
          if ('status' in built) {
            outcomes[at] = built;
            continue;
          }
          const group = `${parsed.params.pixelId}/${parsed.params.testEventCode ?? ''}`;
          paramsByGroup.set(group, parsed.params);
          (groups.get(group) ?? groups.set(group, []).get(group)!).push({ at, event: built });
        }
        for (const [group, entries] of groups) {
          const params = paramsByGroup.get(group)!;
          const result = await (
            await meta.get()
          ).conversions.sendEvents(
            ctx,
            params.pixelId,
            entries.map((e) => e.event),
            params.testEventCode ? { testEventCode: params.testEventCode } : {},
          );
          // Rows come back in the order given, one per event.
          for (const [i, entry] of entries.entries()) {
            const row = result.rows[i];
            outcomes[entry.at] =
              row?.status === 'accepted'
                ? { status: 'done', detail: row.key }
                : row
                  ? { status: 'rejected', code: row.code, reason: row.reason, retryable: row.retryable }
                  : rejectAction('ACTION_NO_ANSWER', 'Meta answered no row for this event');
          }
        }
        return outcomes.map((o) => o ?? rejectAction('ACTION_NO_ANSWER', 'no outcome'));
      },
      close: () => meta.close(),
    };
  },
};
