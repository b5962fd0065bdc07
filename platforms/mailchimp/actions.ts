import { z } from 'zod';
import type { RowResult } from '../../lib/upstream/writes.js';
import {
  paramsOf,
  rejectAction,
  type ActionItem,
  type ActionOutcome,
  type PlatformActions,
} from '../kit/actions.js';
import { onFirstUse } from '../kit/lazy.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { MemberWriteStatus } from './client/writes.js';
import type { MailchimpConnection } from './index.js';

/**
 * Mailchimp's actions on the member of the connected audience whose address the event names: add
 * or remove tags (`POST /lists/{id}/members/{hash}/tags`) and upsert the member
 * (`PUT /lists/{id}/members/{hash}`). Both write a state, not a change, so sending one again
 * after a lost answer leaves the member as once: they are idempotent by nature.
 */

const tagName = z.string().min(1).max(100);
const tagsParams = z.object({ tags: z.array(tagName).min(1).max(50) }).strict();
const STATUSES = ['SUBSCRIBED', 'UNSUBSCRIBED', 'CLEANED', 'PENDING', 'TRANSACTIONAL'] as const;
const upsertParams = z
  .object({
    /** Status of a member new to the audience. */
    statusIfNew: z.enum(STATUSES),
    /** Status to set on a member already there; absent leaves theirs (never resubscribes anyone). */
    status: z.enum(STATUSES).optional(),
    /** Merge fields by tag (`FNAME`); `{{name}}` is not expanded. */
    mergeFields: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_]{0,9}$/), z.union([z.string(), z.number()]))
      .optional(),
  })
  .strict();

const outcomeOf = (row: RowResult): ActionOutcome =>
  row.status === 'accepted'
    ? { status: 'done', ...(row.id ? { detail: row.id } : {}) }
    : { status: 'rejected', code: row.code, reason: row.reason, retryable: row.retryable };

const emailOf = (item: ActionItem) => item.event.customer?.email;
const NO_EMAIL = rejectAction('CUSTOMER_WITHOUT_EMAIL', 'the event names no email address for a member');

export const mailchimpActions: PlatformActions<MailchimpConnection> = {
  kinds: [
    {
      type: 'add-tags',
      description: "adds tags to the customer's member in the audience",
      params: tagsParams,
      batchSize: 1,
      idempotent: true,
    },
    {
      type: 'remove-tags',
      description: "removes tags from the customer's member in the audience",
      params: tagsParams,
      batchSize: 1,
      idempotent: true,
    },
    {
      type: 'upsert-member',
      description: 'adds the customer to the audience, or updates their member',
      params: upsertParams,
      batchSize: 1,
      idempotent: true,
    },
  ],
  connect(connection, settings) {
    const mailchimp = onFirstUse(
      async () =>
        new (await import('./client/connector.js')).MailchimpConnector({ ...connection, ...settings }),
    );
    const runOne = async (ctx: RequestContext, type: string, item: ActionItem): Promise<ActionOutcome> => {
      const email = emailOf(item);
      if (!email) return NO_EMAIL;
      if (type === 'upsert-member') {
        const parsed = paramsOf(upsertParams, item);
        if (!parsed.ok) return parsed.outcome;
        const { statusIfNew, status, mergeFields } = parsed.params;
        return outcomeOf(
          await (
            await mailchimp.get()
          ).writes.upsertMember(ctx, {
            email,
            statusIfNew: statusIfNew as MemberWriteStatus,
            ...(status ? { status: status as MemberWriteStatus } : {}),
            ...(mergeFields ? { mergeFields } : {}),
          }),
        );
      }
      const parsed = paramsOf(tagsParams, item);
      if (!parsed.ok) return parsed.outcome;
      const active = type === 'add-tags';
      return outcomeOf(
        await (
          await mailchimp.get()
        ).writes.setMemberTags(
          ctx,
          email,
          parsed.params.tags.map((name) => ({ name, active })),
        ),
      );
    };
    return {
      async run(ctx, type, items) {
        const out: ActionOutcome[] = [];
        for (const item of items) out.push(await runOne(ctx, type, item));
        return out;
      },
      close: () => mailchimp.close(),
    };
  },
};
