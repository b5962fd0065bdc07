import { UpstreamError } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { UpstreamClient, type UpstreamGuard, type UpstreamThrottle } from '../../lib/upstream/client.js';
import { parseUpstream } from '../../lib/upstream/parse.js';
import { hubspotProtocol } from './protocol.js';
import {
  CONTACT_PROPERTIES,
  toCrmCustomer,
  type CrmCustomer,
  type CrmList,
  type CrmListMembership,
} from './records.js';
import {
  batchReadResponse,
  contactsPage,
  listsResponse,
  recordMemberships,
  searchResponse,
  simplePublicObject,
} from './schemas.js';

export interface HubSpotSettings {
  baseUrl: string;
  accessToken: string;
  /** The portal id; it scopes caches and limits so two accounts never share them. */
  accountId: string;
  timeoutMs: number;
  maxRetries: number;
  throttle?: UpstreamThrottle;
  guard?: UpstreamGuard;
}

/** HubSpot's documented maximums. */
export const HUBSPOT_LIMITS = { batchRead: 100, listPage: 100, searchPage: 200 } as const;

export type ContactKey = { by: 'id'; id: string } | { by: 'email'; email: string };

/** What a batch read gives for one key: the customer, null when HubSpot has none, or its own error. */
export type BatchOutcome = CrmCustomer | null | UpstreamError;

export interface ContactSearch {
  /** Property filters ANDed together (one HubSpot filter group). */
  filters: {
    propertyName: string;
    operator: 'EQ' | 'NEQ' | 'IN' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'HAS_PROPERTY';
    value?: string;
    values?: string[];
  }[];
  sort?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' };
  limit: number;
  after?: string;
}

const CONTACT_OBJECT_TYPE = '0-1';

/**
 * The CRM connector: HubSpot CRM v3 contacts and lists, read-only. Answers in the graph's
 * conventions (CrmCustomer); HubSpot's names and shapes stay in this folder.
 */
export class HubSpotConnector {
  readonly accountId: string;
  private readonly http: UpstreamClient;

  constructor(settings: HubSpotSettings) {
    this.accountId = settings.accountId;
    this.http = new UpstreamClient({
      protocol: hubspotProtocol(settings.accessToken),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      ...(settings.throttle ? { throttle: settings.throttle } : {}),
      ...(settings.guard ? { guard: settings.guard } : {}),
    });
  }

  /** One contact by id or email; null when HubSpot has no such contact. */
  async getContact(ctx: RequestContext, key: ContactKey): Promise<CrmCustomer | null> {
    const id = key.by === 'id' ? key.id : key.email.toLowerCase();
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint: 'GET /crm/v3/objects/contacts/{id}',
      path: `/crm/v3/objects/contacts/${encodeURIComponent(id)}`,
      query: {
        properties: CONTACT_PROPERTIES.join(','),
        archived: 'false',
        ...(key.by === 'email' ? { idProperty: 'email' } : {}),
      },
      accept: [404],
    });
    if (response.status === 404) return null;
    return toCrmCustomer(
      parseUpstream('hubspot', 'GET /crm/v3/objects/contacts/{id}', simplePublicObject, response.body),
    );
  }

  /** A page of contacts in HubSpot's order, from `after`. `limit` is at most 100. */
  async listContacts(
    ctx: RequestContext,
    page: { limit: number; after?: string },
  ): Promise<{ customers: CrmCustomer[]; nextAfter?: string }> {
    const limit = Math.min(page.limit, HUBSPOT_LIMITS.listPage);
    const body = await this.http.json(
      ctx,
      {
        method: 'GET',
        endpoint: 'GET /crm/v3/objects/contacts',
        path: '/crm/v3/objects/contacts',
        query: { limit, after: page.after, properties: CONTACT_PROPERTIES.join(','), archived: 'false' },
      },
      contactsPage,
    );
    const nextAfter = body.paging?.next?.after;
    return { customers: body.results.map(toCrmCustomer), ...(nextAfter ? { nextAfter } : {}) };
  }

  /**
   * Reads up to 100 contacts in one call (`POST .../batch/read`), all by id or all by email. The map
   * answers every key asked: the customer, null for a contact HubSpot does not have (207 partial
   * result, OBJECT_NOT_FOUND), or an error for keys HubSpot failed for another reason.
   */
  async batchReadContacts(
    ctx: RequestContext,
    by: 'id' | 'email',
    keys: readonly string[],
  ): Promise<Map<string, BatchOutcome>> {
    if (keys.length > HUBSPOT_LIMITS.batchRead)
      throw new RangeError(`batch read takes at most ${HUBSPOT_LIMITS.batchRead} keys`);
    const normalised = keys.map((k) => (by === 'email' ? k.toLowerCase() : k));
    const endpoint = 'POST /crm/v3/objects/contacts/batch/read';
    const body = await this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint,
        path: '/crm/v3/objects/contacts/batch/read',
        body: {
          properties: CONTACT_PROPERTIES,
          propertiesWithHistory: [],
          ...(by === 'email' ? { idProperty: 'email' } : {}),
          inputs: normalised.map((id) => ({ id })),
        },
        // A batch read changes nothing, so it is as safe to repeat as a GET.
        idempotent: true,
      },
      batchReadResponse,
    );
    const out = new Map<string, BatchOutcome>();
    for (const object of body.results) {
      const customer = toCrmCustomer(object);
      const key = by === 'email' ? customer.email : customer.id;
      if (key) out.set(key, customer);
    }
    for (const failure of body.errors ?? []) {
      const ids = Object.values(failure.context ?? {}).flat();
      for (const id of ids) {
        const key = by === 'email' ? id.toLowerCase() : id;
        if (failure.category === 'OBJECT_NOT_FOUND') out.set(key, null);
        else {
          out.set(
            key,
            new UpstreamError(
              `hubspot: batch read failed for this contact: ${failure.category}: ${failure.message.slice(0, 200)}`,
              {
                platform: 'hubspot',
                code: 'UPSTREAM_ERROR',
                endpoint,
                status: 207,
                upstreamCode: failure.category,
              },
            ),
          );
        }
      }
    }
    for (const key of normalised) if (!out.has(key)) out.set(key, null);
    return out;
  }

  /** CRM search (one filter group); at most 200 per page and 10,000 in total, as HubSpot allows. */
  async searchContacts(
    ctx: RequestContext,
    search: ContactSearch,
  ): Promise<{ customers: CrmCustomer[]; total: number; nextAfter?: string }> {
    const body = await this.http.json(
      ctx,
      {
        method: 'POST',
        endpoint: 'POST /crm/v3/objects/contacts/search',
        path: '/crm/v3/objects/contacts/search',
        body: {
          filterGroups: [{ filters: search.filters }],
          ...(search.sort ? { sorts: [search.sort] } : {}),
          properties: CONTACT_PROPERTIES,
          limit: Math.min(search.limit, HUBSPOT_LIMITS.searchPage),
          ...(search.after ? { after: search.after } : {}),
        },
        idempotent: true,
      },
      searchResponse,
    );
    const nextAfter = body.paging?.next?.after;
    return {
      customers: body.results.map(toCrmCustomer),
      total: body.total,
      ...(nextAfter ? { nextAfter } : {}),
    };
  }

  /** The lists a contact is a member of, following every page. */
  async listMemberships(ctx: RequestContext, contactId: string): Promise<CrmListMembership[]> {
    const out: CrmListMembership[] = [];
    let after: string | undefined;
    do {
      const endpoint = 'GET /crm/v3/lists/records/{objectTypeId}/{recordId}/memberships';
      const response = await this.http.send(ctx, {
        method: 'GET',
        endpoint,
        path: `/crm/v3/lists/records/${CONTACT_OBJECT_TYPE}/${encodeURIComponent(contactId)}/memberships`,
        query: { after },
        accept: [404],
      });
      // A contact deleted between two calls has no memberships rather than an error.
      if (response.status === 404) return out;
      const body = parseUpstream('hubspot', endpoint, recordMemberships, response.body);
      for (const m of body.results)
        out.push({ listId: m.listId, addedAt: m.lastAddedTimestamp ?? m.firstAddedTimestamp ?? null });
      after = body.paging?.next?.after;
    } while (after);
    return out;
  }

  /** Lists by id (name and id only). */
  async getLists(ctx: RequestContext, ids: readonly string[]): Promise<CrmList[]> {
    if (ids.length === 0) return [];
    const body = await this.http.json(
      ctx,
      { method: 'GET', endpoint: 'GET /crm/v3/lists', path: '/crm/v3/lists', query: { listIds: [...ids] } },
      listsResponse,
    );
    return body.lists.map((l) => ({ id: l.listId, name: l.name }));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
