import type { Platform } from '../errors.js';
import { cacheMetrics } from './metrics.js';
import type { CacheStore } from './store.js';

/**
 * The kinds of upstream record a connector caches, each with its own time to live:
 * - `profile`: a CRM customer (and CRM list definitions);
 * - `subscription`: an email-list member (status, rating, engagement);
 * - `orders`: a shop customer and their orders;
 * - `campaignReports`: campaign figures over a date range (ad insights, email campaigns, orders by range).
 */
export type RecordType = 'profile' | 'subscription' | 'orders' | 'campaignReports';

/** Seconds each record type stays cached (0 turns caching of that type off), and known absences. */
export interface RecordTtls extends Record<RecordType, number> {
  /**
   * Seconds a known absence ("HubSpot has no such contact") stays cached, at most its type's own
   * TTL: shorter, because a record created upstream is not always announced by a webhook that
   * names the key it was missed by. @default each type's own TTL
   */
  absent?: number;
}

/**
 * What the cache knows about one record, three distinct answers:
 * - `found`: the platform had it (`value`);
 * - `absent`: the platform said it has no such record, recently enough to believe it;
 * - `miss`: the cache knows nothing (never read, expired, invalidated, caching off or the store down).
 */
export type CacheLookup<T> = { state: 'found'; value: T } | { state: 'absent' } | { state: 'miss' };

/** Any value but null and undefined: what a cached record may be, so `null` can only mean absent. */
export type Present = NonNullable<unknown>;

/**
 * A record as a read-through fetch answers it: the value, `null` when the platform has no such
 * record (stored as a known absence), or an Error for that record alone (passed on, never stored).
 */
export type Fetched<T extends Present> = T | null | Error;

/** The stored shape: a found value, or the absence marker. */
type Entry<T> = { v: T } | { absent: true };

const MISS = { state: 'miss' } as const;
const ABSENT = { state: 'absent' } as const;

function lookupOf<T>(entry: unknown): CacheLookup<T> {
  if (!entry || typeof entry !== 'object') return MISS;
  if ('absent' in entry) return ABSENT;
  const value = 'v' in entry ? (entry as { v: T | null }).v : null;
  // `{ v: null }` is how absences were stored before they had their own marker: read again.
  return value === null ? MISS : { state: 'found', value };
}

/** The key layout, public so the webhook work can invalidate a record from another process. */
export function recordKey(platform: Platform, account: string, type: RecordType, id: string): string {
  return `rec:${platform}:${account}:${type}:${id}`;
}

/**
 * The one read-through cache of a platform account's records, used by every connector. Keys carry
 * the platform and the account, so two tenants (two HubSpot portals) never share an entry. Found
 * records and known absences are stored, each with its TTL; errors never are. A connector built
 * without a store gets `RecordCache.off`, which answers every look-up with a miss and stores
 * nothing, so connector code has one path whether caching is on or not.
 */
export class RecordCache {
  constructor(
    private readonly store: CacheStore | undefined,
    readonly platform: Platform,
    readonly account: string,
    private readonly ttls: RecordTtls,
  ) {}

  /** A cache that keeps nothing: every read goes to the platform. */
  static off(platform: Platform, account: string): RecordCache {
    return new RecordCache(undefined, platform, account, {
      profile: 0,
      subscription: 0,
      orders: 0,
      campaignReports: 0,
    });
  }

  private key(type: RecordType, id: string): string {
    return recordKey(this.platform, this.account, type, id);
  }

  /** Milliseconds an entry lives; 0 when that type is not cached. */
  private ttlMs(type: RecordType, absent: boolean): number {
    const ttl = this.ttls[type];
    return (absent && this.ttls.absent !== undefined ? Math.min(ttl, this.ttls.absent) : ttl) * 1000;
  }

  /** What the cache knows about each id (found, absent or miss), in a map with every id asked. */
  async lookup<T extends Present>(
    type: RecordType,
    ids: readonly string[],
  ): Promise<Map<string, CacheLookup<T>>> {
    const out = new Map<string, CacheLookup<T>>(ids.map((id) => [id, MISS]));
    if (!this.store || this.ttls[type] === 0 || ids.length === 0) return out;
    const entries = await this.store.getMany<Entry<T>>(ids.map((id) => this.key(type, id)));
    let hits = 0;
    ids.forEach((id, i) => {
      const lookup = lookupOf<T>(entries[i]);
      out.set(id, lookup);
      if (lookup.state !== 'miss') hits += 1;
    });
    const labels = { platform: this.platform, type };
    cacheMetrics.hits.inc(labels, hits);
    cacheMetrics.misses.inc(labels, ids.length - hits);
    return out;
  }

  async lookupOne<T extends Present>(type: RecordType, id: string): Promise<CacheLookup<T>> {
    return (await this.lookup<T>(type, [id])).get(id) ?? MISS;
  }

  /** Stores records read from the platform: a value as found, `null` as a known absence. */
  async setMany<T extends Present>(
    type: RecordType,
    entries: Iterable<readonly [string, T | null]>,
  ): Promise<void> {
    if (!this.store || this.ttls[type] === 0) return;
    const writes: Promise<void>[] = [];
    for (const [id, value] of entries) {
      const entry: Entry<T> = value === null ? { absent: true } : { v: value };
      writes.push(this.store.set(this.key(type, id), entry, this.ttlMs(type, value === null)));
    }
    await Promise.all(writes);
  }

  /** Drops one record, found or absent, so the next read goes upstream (a platform said it changed). */
  async invalidate(type: RecordType, id: string): Promise<void> {
    await this.store?.delete(this.key(type, id));
  }

  /**
   * Answers every id: from the cache where it knows (found or absent), from `fetch` for the misses.
   * `fetch` answers each id it was given (an id it leaves out counts as absent); its errors are
   * passed on and not stored.
   */
  async load<T extends Present>(
    type: RecordType,
    ids: readonly string[],
    fetch: (missing: readonly string[]) => Promise<Map<string, Fetched<T>>>,
  ): Promise<Map<string, Fetched<T>>> {
    const known = await this.lookup<T>(type, ids);
    const out = new Map<string, Fetched<T>>();
    const missing: string[] = [];
    for (const id of ids) {
      const lookup = known.get(id) ?? MISS;
      if (lookup.state === 'miss') missing.push(id);
      out.set(id, lookup.state === 'found' ? lookup.value : null);
    }
    if (missing.length === 0) return out;
    const fetched = await fetch(missing);
    const toStore: [string, T | null][] = [];
    for (const id of missing) {
      const value = fetched.get(id) ?? null;
      out.set(id, value);
      if (!(value instanceof Error)) toStore.push([id, value]);
    }
    await this.setMany(type, toStore);
    return out;
  }

  /**
   * One record read through: the cached value, null for a cached absence, else what `fetch`
   * answers (stored, a null as an absence). A thrown error is passed on and nothing is stored.
   * When `fetch` never answers null, neither does this: only a fetch's null is stored as absent.
   */
  loadOne<T extends Present>(type: RecordType, id: string, fetch: () => Promise<T>): Promise<T>;
  loadOne<T extends Present>(type: RecordType, id: string, fetch: () => Promise<T | null>): Promise<T | null>;
  async loadOne<T extends Present>(
    type: RecordType,
    id: string,
    fetch: () => Promise<T | null>,
  ): Promise<T | null> {
    const lookup = await this.lookupOne<T>(type, id);
    if (lookup.state === 'found') return lookup.value;
    if (lookup.state === 'absent') return null;
    const value = await fetch();
    await this.setMany(type, [[id, value]]);
    return value;
  }
}
