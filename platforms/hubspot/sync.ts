import { z } from 'zod';
import { defineSyncDestination, type SyncRecord } from '../kit/sync.js';
import type { RowResult } from '../../lib/upstream/writes.js';
import { onFirstUse } from '../kit/lazy.js';
import { HUBSPOT_BATCH_WRITE, type ContactPropertyValues } from './client/writes.js';
import type { HubSpotConnection } from './index.js';

/**
 * HubSpot contacts as a sync destination: each record sets contact properties by their internal
 * names (`lifetime_value`, `last_order_date`). `upsert` and `insert` match contacts by `email`
 * (`POST …/contacts/batch/upsert`, creating the ones no address matches); `update` sets properties
 * on existing contacts by record `id` (`POST …/contacts/batch/update`). 100 inputs a call.
 * HubSpot contacts are the system of record: a sync never deletes them, so no `mirror`.
 */

export const hubspotSyncOptions = z.object({}).strict();
export type HubSpotSyncOptions = z.output<typeof hubspotSyncOptions>;

function propertiesOf(record: SyncRecord, without: string): ContactPropertyValues {
  const properties: ContactPropertyValues = {};
  for (const [name, value] of Object.entries(record)) if (name !== without) properties[name] = value;
  return properties;
}

export const hubspotSync = defineSyncDestination<HubSpotConnection, HubSpotSyncOptions>({
  type: 'hubspot-contacts',
  title: 'HubSpot contact properties',
  options: hubspotSyncOptions,
  modes: ['insert', 'update', 'upsert'],
  identity: '`email` (insert, upsert) or `id` (update)',
  check: (record, _options, mode) => {
    const field = mode === 'update' ? 'id' : 'email';
    return typeof record[field] === 'string' ? undefined : `the record has no \`${field}\``;
  },
  writer(connection, _options, settings) {
    const { ratePer10s, ...rest } = connection;
    const connector = onFirstUse(
      async () =>
        new (await import('./client/connector.js')).HubSpotConnector({
          ...rest,
          ...settings,
          ...(ratePer10s !== undefined ? { limits: { per10s: ratePer10s } } : {}),
        }),
    );
    return {
      batchSize: { write: HUBSPOT_BATCH_WRITE, remove: HUBSPOT_BATCH_WRITE },
      async write(ctx, batch): Promise<RowResult[]> {
        if (batch.operation === 'remove')
          throw new RangeError('HubSpot contacts are never removed by a sync');
        if (batch.mode === 'update')
          return (await connector.get()).writes.batchUpdateContacts(
            ctx,
            batch.rows.map((row) => ({
              id: String(row.record['id']),
              properties: propertiesOf(row.record, 'id'),
            })),
          );
        return (await connector.get()).writes.batchUpsertContactsByEmail(
          ctx,
          batch.rows.map((row) => ({
            email: String(row.record['email']),
            properties: propertiesOf(row.record, 'email'),
          })),
        );
      },
      close: () => connector.close(),
    };
  },
});
