import { z } from 'zod';
import { defineSyncDestination, type SyncRecord } from '../kit/sync.js';
import type { RowResult } from '../../lib/upstream/writes.js';
import { onFirstUse } from '../kit/lazy.js';
import { MAILCHIMP_BATCH_MEMBERS, type BatchMember, type MergeFields } from './client/writes.js';
import type { MailchimpConnection } from './index.js';

/**
 * Mailchimp audience as a sync destination: each record is a member, keyed by its `email`; every
 * other field is a merge field by its tag (`FNAME`, `LTV`). Writes are batch subscribe/update
 * (`POST /lists/{list_id}`, 500 members a call) with the options' status and tags; a mirror sync
 * archives the members who left the source (`DELETE …/members/{hash}`: Mailchimp has no batch
 * archive, so one call each, which is that removal's lower bound).
 */

export const mailchimpSyncOptions = z
  .object({
    /** Status given to new members (and to existing ones, since the batch updates them). @default SUBSCRIBED */
    status: z
      .enum(['SUBSCRIBED', 'PENDING', 'UNSUBSCRIBED', 'CLEANED', 'TRANSACTIONAL'])
      .default('SUBSCRIBED'),
    /** Tags added to every member written. @default none */
    tags: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
  })
  .strict();
export type MailchimpSyncOptions = z.output<typeof mailchimpSyncOptions>;

function mergeFieldsOf(record: SyncRecord): MergeFields {
  const fields: MergeFields = {};
  for (const [name, value] of Object.entries(record)) {
    if (name === 'email' || value === null) continue;
    fields[name] = typeof value === 'boolean' ? String(value) : value;
  }
  return fields;
}

export const mailchimpSync = defineSyncDestination<MailchimpConnection, MailchimpSyncOptions>({
  type: 'mailchimp-audience',
  title: 'Mailchimp audience',
  options: mailchimpSyncOptions,
  // Batch subscribe cannot be limited to existing members: no `update` mode.
  modes: ['insert', 'upsert', 'mirror'],
  identity: '`email`',
  check: (record) => (typeof record['email'] === 'string' ? undefined : 'the record has no `email`'),
  writer(connection, options, settings) {
    const connector = onFirstUse(
      async () =>
        new (await import('./client/connector.js')).MailchimpConnector({ ...connection, ...settings }),
    );
    return {
      batchSize: { write: MAILCHIMP_BATCH_MEMBERS, remove: 1 },
      async write(ctx, batch): Promise<RowResult[]> {
        if (batch.operation === 'remove') {
          const { writes } = await connector.get();
          return Promise.all(batch.rows.map((row) => writes.archiveMember(ctx, String(row.record['email']))));
        }
        const members = batch.rows.map((row): BatchMember => ({
          email: String(row.record['email']),
          status: options.status,
          mergeFields: mergeFieldsOf(row.record),
          ...(options.tags.length > 0 ? { tags: options.tags } : {}),
        }));
        const result = await (
          await connector.get()
        ).writes.batchSubscribe(ctx, members, {
          updateExisting: batch.mode !== 'insert',
        });
        return result.rows;
      },
      close: () => connector.close(),
    };
  },
});
