import { RecordCache } from '../../../lib/cache/record-cache.js';
import { UpstreamError } from '../../../lib/errors.js';
import type { RequestContext } from '../../../lib/request-context.js';
import { connectorGuard } from '../../../lib/upstream/breaker.js';
import { Coalescer } from '../../../lib/upstream/coalescer.js';
import { deadlineError, UpstreamClient } from '../../../lib/upstream/client.js';
import type { ConnectorSettings } from '../../../lib/upstream/connector-settings.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import {
  HUBSPOT_DEFAULT_LIMITS,
  hubspotThrottle,
  type HubSpotFlowControl,
  type HubSpotLimits,
} from './limits.js';
import { DailyLimitGate, type DailyLimitState } from './daily.js';
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
} from './schemas.js';
import { HubSpotContactWriter } from './writes.js';
import { leaseAccountThrottle, type ThrottleLease } from '../../../lib/upstream/account-throttles.js';

/** HubSpot's own settings; the cache (contacts and lists), throttle and breaker are every connector's. */
export interface HubSpotSettings extends ConnectorSettings {
  baseUrl: string;
  accessToken: string;
  /** The portal id; it scopes caches and limits so two accounts never share them. */
  accountId: string;
  /** HubSpot's limits for this app's plan. @default HUBSPOT_DEFAULT_LIMITS (100 per 10 s, search 5/s) */
  limits?: Partial<HubSpotLimits>;
  /** The account's time zone (IANA), where HubSpot's daily limit resets at midnight. @default 'UTC' */
  timeZone?: string;
}

/** HubSpot's documented maximums. */
export const HUBSPOT_LIMITS = { batchRead: 100, listPage: 100, searchPage: 200 } as const;

export type ContactKey = { by: 'id'; id: string } | { by: 'email'; email: string };

/** What a batch read gives for one key: the customer, null when HubSpot has none, or its own error. */
export type BatchOutcome = CrmCustomer | null | Error;

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
 * Batch reads out at once while less than half of HubSpot's ten-second window is spent. HubSpot
 * limits requests per window, not connections; ten is the concurrency one gateway's requests reach.
 */
const BATCH_READS_IN_FLIGHT_UNHURRIED = 10;

/**
 * The CRM connector: HubSpot CRM v3 contacts and lists, and (through `writes`) the contact writes
 * actions and syncs make. Answers in the graph's conventions (CrmCustomer); HubSpot's names and
 * shapes stay in this folder.
 */
export class HubSpotConnector {
  readonly accountId: string;
  /**
   * Batch update and upsert contact properties, and add notes. They share this connector's
   * throttle (ten-second window and daily limit) and breaker with its reads, at background
   * priority, and forget what the read cache held for each contact written.
   */
  readonly writes: HubSpotContactWriter;
  private readonly http: UpstreamClient;
  private readonly cache: RecordCache;
  /** List definitions being read now, by cache key (`list:<id>`): concurrent misses share one read. */
  private readonly listsInFlight = new Map<string, Promise<CrmList | null>>();
  /** Batch reads shared across concurrent requests, one per id property. */
  private readonly batches: Record<'id' | 'email', Coalescer<BatchOutcome>>;
  private readonly daily: DailyLimitGate;

  /** This account's throttle, shared with the process's other connectors to it (account-throttles.ts). */
  private readonly throttleLease: ThrottleLease<HubSpotFlowControl>;

  constructor(settings: HubSpotSettings) {
    this.accountId = settings.accountId;
    this.cache = settings.cache ?? RecordCache.off('hubspot', settings.accountId);

    const limits = { ...HUBSPOT_DEFAULT_LIMITS, ...settings.limits };
    this.throttleLease = leaseAccountThrottle(
      undefined,
      { platform: 'hubspot', baseUrl: settings.baseUrl, account: settings.accountId, limits },
      (share) => hubspotThrottle(limits, share),
    );
    const flow = this.throttleLease.throttle;
    // The fuller HubSpot's window, the longer a batch read waits for more keys and the fewer batch
    // reads go out at once: a little latency buys many more look-ups per call when the budget is
    // what limits us. With the window mostly free, calls are not what is scarce: a look-up that
    // finds two reads out would wait a whole round trip for nothing (cold profiles' p99 tail).
    const batch = (by: 'id' | 'email') =>
      new Coalescer<BatchOutcome>({
        maxBatch: HUBSPOT_LIMITS.batchRead,
        delayMs: () => 2 + Math.round(flow.pressure() * 48),
        maxInFlight: () => (flow.pressure() < 0.5 ? BATCH_READS_IN_FLIGHT_UNHURRIED : 2),
        fetch: (ctx, keys) => this.fetchBatch(ctx, by, keys),
        expired: () =>
          deadlineError(
            'hubspot',
            'POST /crm/v3/objects/contacts/batch/read',
            `no answer before the request's deadline`,
          ),
      });
    this.batches = { id: batch('id'), email: batch('email') };
    const timeZone = settings.timeZone ?? 'UTC';
    this.daily = new DailyLimitGate(settings.throttle ?? flow.throttle, {
      timeZone,
      ...(settings.logger ? { logger: settings.logger } : {}),
    });
    this.http = new UpstreamClient({
      protocol: hubspotProtocol(settings.accessToken, { timeZone }),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      throttle: this.daily,
      // The breaker's own cheap read, once it has been open a while; never a user's request.
      guard: connectorGuard('hubspot', settings, (logger) =>
        this.http.probe(
          {
            method: 'GET',
            endpoint: 'GET /crm/v3/objects/contacts',
            path: '/crm/v3/objects/contacts',
            query: { limit: 1, archived: 'false' },
          },
          logger,
        ),
      ),
    });
    this.writes = new HubSpotContactWriter(this.http, async (keys) => {
      await Promise.all(
        keys.flatMap((k) => [
          ...(k.id ? [this.invalidateContact(k.id)] : []),
          ...(k.email ? [this.invalidateContactByEmail(k.email)] : []),
        ]),
      );
    });
  }

  /** Whether HubSpot's daily limit is spent and when it resets, for health. */
  dailyLimit(): DailyLimitState {
    return this.daily.state();
  }

  /**
   * One contact by id or email; null when HubSpot has no such contact. Goes through the shared
   * batch read, so concurrent look-ups from many requests cost one call.
   */
  async getContact(ctx: RequestContext, key: ContactKey): Promise<CrmCustomer | null> {
    const id = key.by === 'id' ? key.id : key.email.toLowerCase();
    const found = await this.batchReadContacts(ctx, key.by, [id]);
    const value = found.get(id);
    if (value instanceof Error) throw value;
    return value ?? null;
  }

  /**
   * Contacts by id or email through the record cache. Entries are stored under both keys
   * (`id:<id>`, `email:<email>`) so a look-up by either is warm after a read by the other.
   */
  private async cachedContacts(
    by: 'id' | 'email',
    keys: readonly string[],
    fetch: (missing: readonly string[]) => Promise<Map<string, BatchOutcome>>,
  ): Promise<Map<string, BatchOutcome>> {
    const prefixed = keys.map((k) => `${by}:${k}`);
    const loaded = await this.cache.load<CrmCustomer>('profile', prefixed, async (missing) => {
      const fetched = await fetch(missing.map((k) => k.slice(by.length + 1)));
      return new Map([...fetched].map(([k, v]) => [`${by}:${k}`, v]));
    });
    // The other key of each contact read from HubSpot, so it is warm too.
    await this.remember(
      [...loaded.values()].filter((v): v is CrmCustomer => v !== null && !(v instanceof Error)),
    );
    return new Map(keys.map((k) => [k, loaded.get(`${by}:${k}`) ?? null]));
  }

  private async remember(customers: readonly CrmCustomer[]): Promise<void> {
    if (customers.length === 0) return;
    await this.cache.setMany<CrmCustomer>(
      'profile',
      customers.flatMap((c) => [
        [`id:${c.id}`, c] as const,
        ...(c.email ? [[`email:${c.email}`, c] as const] : []),
      ]),
    );
  }

  /**
   * Forgets everything cached about one contact (record under both keys, list memberships), for
   * when HubSpot says it changed. The email key is found through the cached record.
   */
  async invalidateContact(contactId: string): Promise<void> {
    const cached = await this.cache.lookupOne<CrmCustomer>('profile', `id:${contactId}`);
    const email = cached.state === 'found' ? cached.value.email : null;
    await Promise.all([
      this.cache.invalidate('profile', `id:${contactId}`),
      this.cache.invalidate('profile', `lists:${contactId}`),
      ...(email ? [this.cache.invalidate('profile', `email:${email}`)] : []),
    ]);
  }
  /** The same, for a contact known by email only (a webhook that names an address). */
  async invalidateContactByEmail(email: string): Promise<void> {
    const key = `email:${email.toLowerCase()}`;
    const cached = await this.cache.lookupOne<CrmCustomer>('profile', key);
    await this.cache.invalidate('profile', key);
    if (cached.state === 'found') await this.invalidateContact(cached.value.id);
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
    const customers = body.results.map(toCrmCustomer);
    await this.remember(customers);
    return { customers, ...(nextAfter ? { nextAfter } : {}) };
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
    return this.cachedContacts(by, normalised, (missing) => this.batches[by].load(ctx, missing));
  }

  /** One `POST .../batch/read` of at most 100 keys, already normalised. */
  private async fetchBatch(
    ctx: RequestContext,
    by: 'id' | 'email',
    normalised: readonly string[],
  ): Promise<Map<string, BatchOutcome>> {
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

  /** The lists a contact is a member of, following every page (cached with the profile). */
  async listMemberships(ctx: RequestContext, contactId: string): Promise<CrmListMembership[]> {
    return this.cache.loadOne('profile', `lists:${contactId}`, () => this.fetchMemberships(ctx, contactId));
  }

  private async fetchMemberships(ctx: RequestContext, contactId: string): Promise<CrmListMembership[]> {
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

  /** Lists by id (name and id only); list definitions are cached like profiles. */
  async getLists(ctx: RequestContext, ids: readonly string[]): Promise<CrmList[]> {
    if (ids.length === 0) return [];
    const fetchLists = async (missing: readonly string[]) => {
      const body = await this.http.json(
        ctx,
        {
          method: 'GET',
          endpoint: 'GET /crm/v3/lists',
          path: '/crm/v3/lists',
          query: { listIds: [...missing] },
        },
        listsResponse,
      );
      const found = new Map<string, CrmList | null>(
        body.lists.map((l) => [`list:${l.listId}`, { id: l.listId, name: l.name }]),
      );
      return new Map(missing.map((k) => [`list:${k}`, found.get(`list:${k}`) ?? null]));
    };
    // Requests that miss the same lists at once (a fresh process's first profiles) share one read.
    const shared = async (missing: readonly string[]) => {
      const fresh = missing.filter((key) => !this.listsInFlight.has(key));
      if (fresh.length > 0) {
        const call = fetchLists(fresh.map((k) => k.slice(5)));
        for (const key of fresh) {
          const one = call.then((found) => found.get(key) ?? null);
          this.listsInFlight.set(key, one);
          // Forgotten once settled: a failure is not remembered (nor is it unhandled here).
          one.then(
            () => this.listsInFlight.delete(key),
            () => this.listsInFlight.delete(key),
          );
        }
      }
      const answers = await Promise.all(missing.map((key) => this.listsInFlight.get(key) ?? null));
      return new Map(missing.map((key, i) => [key, answers[i] ?? null]));
    };
    const keys = ids.map((id) => `list:${id}`);
    const loaded = await this.cache.load<CrmList>('profile', keys, shared);
    return keys.flatMap((k) => {
      const list = loaded.get(k);
      return list && !(list instanceof Error) ? [list] : [];
    });
  }

  close(): Promise<void> {
    this.throttleLease.release();
    return this.http.close();
  }
}
