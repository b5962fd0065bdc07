import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineSyncDestination, type SyncRecord } from '../kit/sync.js';
import type { RowResult } from '../../lib/upstream/writes.js';
import { MAX_ROWS_PER_REQUEST, type AudienceMember } from './client/audiences.js';
import { onFirstUse } from '../kit/lazy.js';
import { AUDIENCE_KEYS, type CustomerIdentity } from './client/identity.js';
import type { MetaConnection } from './index.js';

/**
 * A Meta customer-file custom audience as a sync destination: each record is a person by the
 * identity fields it carries (`email`, `phone`, `firstName`, `lastName`, `externalId`…),
 * normalised and SHA-256 hashed by the client. Additions are `POST /{audience-id}/users`, removals
 * (mirror) `DELETE /{audience-id}/users`, 10,000 rows a call, each run's parts one upload session
 * (`session_id`, `batch_seq`, `last_batch_flag`) so Meta sees one upload, resumed after a restart.
 */

const IDENTITY_FIELDS = [
  'email',
  'phone',
  'firstName',
  'lastName',
  'city',
  'state',
  'zip',
  'country',
  'gender',
  'dateOfBirth',
  'externalId',
] as const satisfies readonly (keyof CustomerIdentity)[];

export const metaSyncOptions = z
  .object({
    /** The custom audience's numeric id. */
    audienceId: z.string().regex(/^\d{1,20}$/, "must be Meta's numeric audience id"),
    /** The keys each row carries, Meta's multi-key schema. @default ['EMAIL'] */
    keys: z.array(z.enum(AUDIENCE_KEYS)).min(1).default(['EMAIL']),
  })
  .strict();
export type MetaSyncOptions = z.output<typeof metaSyncOptions>;

function memberOf(key: string, record: SyncRecord): AudienceMember {
  const member: AudienceMember = { key };
  for (const field of IDENTITY_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && value !== '') member[field] = value;
  }
  return member;
}

/** Meta's session id: a positive integer below 2^47, the same for every part of one run's upload. */
const sessionIdOf = (session: string) =>
  Number(BigInt(`0x${createHash('sha256').update(session).digest('hex').slice(0, 12)}`) % (2n ** 47n - 1n)) +
  1;

export const metaSync = defineSyncDestination<MetaConnection, MetaSyncOptions>({
  type: 'meta-custom-audience',
  title: 'Meta custom audience',
  options: metaSyncOptions,
  // An audience is a set of people: adding is upserting, and nothing is "updated".
  modes: ['upsert', 'mirror'],
  identity: 'any of `email`, `phone`, `externalId`',
  check: (record) =>
    IDENTITY_FIELDS.some((field) => typeof record[field] === 'string' && record[field] !== '')
      ? undefined
      : 'the record has no identity field (email, phone, externalId, …)',
  writer(connection, options, settings) {
    const connector = onFirstUse(
      async () => new (await import('./client/connector.js')).MetaConnector({ ...connection, ...settings }),
    );
    return {
      batchSize: { write: MAX_ROWS_PER_REQUEST, remove: MAX_ROWS_PER_REQUEST },
      async write(ctx, batch): Promise<RowResult[]> {
        const result = await (
          await connector.get()
        ).audiences.uploadPart(
          ctx,
          batch.operation === 'write' ? 'add' : 'remove',
          options.audienceId,
          batch.rows.map((row) => memberOf(row.key, row.record)),
          {
            sessionId: sessionIdOf(`${batch.part.session}:${batch.operation}`),
            batchSeq: batch.part.index + 1,
            last: batch.part.index === batch.part.count - 1,
            estimatedTotal: batch.part.totalRows,
          },
          { keys: options.keys },
        );
        return result.rows;
      },
      close: () => connector.close(),
    };
  },
});
