import { z } from 'zod';
import {
  fillTemplate,
  paramsOf,
  rejectAction,
  type ActionItem,
  type ActionOutcome,
  type PlatformActions,
} from '../kit/actions.js';
import type { RequestContext } from '../../lib/request-context.js';
import { onFirstUse } from '../kit/lazy.js';
import { toE164, type SmsConsentRecord } from './client/records.js';
import { UpstreamError } from '../../lib/errors.js';
import type { TwilioConnection } from './index.js';

/**
 * Twilio's action: text the customer from a template, only with their SMS consent. Consent is read
 * from the sender's message history just before sending (the client's `consent`: the latest STOP
 * or START keyword the number texted), so a STOP that arrived a second ago is honoured; by default
 * only a number that opted in (texted START, YES, ...) is texted, and `consent: not-opted-out`
 * also texts numbers that never opted out.
 *
 * Twilio has no idempotency key, so a send is never repeated once its call may have left: the
 * outbox records the attempt durably before calling (its idempotency record), and a send found
 * under way after a crash, or one that timed out, is recorded as failed (`ACTION_OUTCOME_UNKNOWN`)
 * rather than risk texting twice. Only Twilio's 429, refused before any processing, is retried.
 */

const smsParams = z
  .object({
    /** The text; `{{name}}` is filled from the event's properties and personal data. */
    template: z.string().min(1).max(1_600),
    /** Who may be texted. @default 'opted-in' */
    consent: z.enum(['opted-in', 'not-opted-out']).default('opted-in'),
  })
  .strict();

export const twilioActions: PlatformActions<TwilioConnection> = {
  kinds: [
    {
      type: 'send-sms',
      description: 'texts the customer from a template, only with their SMS consent',
      params: smsParams,
      batchSize: 1,
      idempotent: false,
    },
  ],
  connect(connection, settings) {
    const { maxConcurrent, ...rest } = connection;
    const twilio = onFirstUse(
      async () =>
        new (await import('./client/connector.js')).TwilioConnector({
          ...rest,
          ...settings,
          ...(maxConcurrent !== undefined ? { limits: { maxConcurrent } } : {}),
        }),
    );

    async function send(ctx: RequestContext, item: ActionItem): Promise<ActionOutcome> {
      const parsed = paramsOf(smsParams, item);
      if (!parsed.ok) return parsed.outcome;
      const raw = item.event.personal?.['phone'];
      const phone = raw ? toE164(raw) : null;
      if (!phone) return rejectAction('CUSTOMER_WITHOUT_PHONE', 'the event names no phone number to text');
      const filled = fillTemplate(parsed.params.template, item.event);
      if (!filled.ok)
        return rejectAction('TEMPLATE_VALUE_MISSING', `the event has no value for {{${filled.missing}}}`);
      let consent: SmsConsentRecord;
      try {
        consent = await (await twilio.get()).consent(ctx, phone);
      } catch (error) {
        // Nothing was sent yet: a failed read of the history is worth another try, unlike a send.
        if (!(error instanceof UpstreamError)) throw error;
        return {
          status: 'rejected',
          code: 'SMS_CONSENT_UNREADABLE',
          reason: error.message.slice(0, 500),
          retryable: error.retryable,
        };
      }
      if (consent.status === 'OPTED_OUT')
        return rejectAction(
          'SMS_OPTED_OUT',
          `the number texted ${consent.keyword ?? 'STOP'}: it is not texted`,
        );
      if (consent.status !== 'OPTED_IN' && parsed.params.consent === 'opted-in')
        return rejectAction('SMS_NO_CONSENT', 'the number never opted in to texts');
      const message = await (await twilio.get()).sendMessage(ctx, { to: phone, body: filled.text });
      return { status: 'done', detail: message.id };
    }

    return {
      async run(ctx, _type, items) {
        const out: ActionOutcome[] = [];
        for (const item of items) out.push(await send(ctx, item));
        return out;
      },
      close: () => twilio.close(),
    };
  },
};
