import DataLoader from 'dataloader';
import type { BatchOutcome, HubSpotConnector } from '../../platforms/hubspot/client/connector.js';
import { HUBSPOT_LIMITS } from '../../platforms/hubspot/client/connector.js';
import type { CrmCustomer } from '../../platforms/hubspot/client/records.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { CustomerListModel } from './mappers.js';

export interface CrmLoaders {
  customerById: DataLoader<string, CrmCustomer | null>;
  customerByEmail: DataLoader<string, CrmCustomer | null>;
  listsOfCustomer: DataLoader<string, CustomerListModel[]>;
  /** Puts customers read by a listing into both look-up loaders, so the same request reads them once. */
  prime(customers: readonly CrmCustomer[]): void;
}

/** A DataLoader result: the record, null when absent, or the error for that key alone. */
const settle = (outcome: BatchOutcome | undefined): CrmCustomer | null | Error => outcome ?? null;

/**
 * One set per request: every look-up of a customer in one GraphQL request (entity references from
 * the gateway, root fields) lands in HubSpot batch reads of up to 100 keys.
 */
export function createCrmLoaders(hubspot: HubSpotConnector, request: RequestContext): CrmLoaders {
  const batch = (by: 'id' | 'email') => async (keys: readonly string[]) => {
    const found = await hubspot.batchReadContacts(request, by, keys);
    return keys.map((key) => settle(found.get(by === 'email' ? key.toLowerCase() : key)));
  };
  const customerById = new DataLoader(batch('id'), { maxBatchSize: HUBSPOT_LIMITS.batchRead });
  const customerByEmail = new DataLoader(batch('email'), {
    maxBatchSize: HUBSPOT_LIMITS.batchRead,
    cacheKeyFn: (email) => email.toLowerCase(),
  });
  const listsOfCustomer = new DataLoader<string, CustomerListModel[]>(async (ids) => {
    const memberships = await Promise.all(ids.map((id) => hubspot.listMemberships(request, id)));
    const listIds = [...new Set(memberships.flat().map((m) => m.listId))];
    const names = new Map((await hubspot.getLists(request, listIds)).map((l) => [l.id, l.name]));
    return memberships.map((forCustomer) =>
      forCustomer.flatMap((m) => {
        const name = names.get(m.listId);
        return name === undefined ? [] : [{ id: m.listId, name, addedAt: m.addedAt }];
      }),
    );
  });
  return {
    customerById,
    customerByEmail,
    listsOfCustomer,
    prime(customers) {
      for (const customer of customers) {
        customerById.prime(customer.id, customer);
        if (customer.email) customerByEmail.prime(customer.email, customer);
      }
    },
  };
}
